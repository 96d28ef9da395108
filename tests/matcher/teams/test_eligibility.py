"""The seed's 牵头单位 criteria (四（一）): thresholds, strategic-emerging relaxation, unknowns."""

from __future__ import annotations

import json

import pytest

from corpus.errors import DataError
from corpus.models import Organisation
from matcher.teams.eligibility import (
    EligibilityRegime,
    Status,
    Verdict,
    check_lead_unit,
    load_lead_unit_rules,
)

STRONG = dict(
    revenue_yi=10.0,
    rd_spend_wan=2000.0,
    rd_staff=150,
    equipment_wan=2000.0,
    national_bases=["国家企业技术中心"],
    strategic_emerging=False,
)


def enterprise(**figures) -> Organisation:
    return Organisation(id="e", name="示例企业", kind="enterprise", **{**STRONG, **figures})


def status(report, criterion: str, regime: EligibilityRegime | None = None):
    for result in report.regimes:
        if regime is None or result.regime is regime:
            for check in result.checks:
                if check.id == criterion:
                    return check
    raise AssertionError(f"no check {criterion}")


def test_the_shipped_rules_carry_the_seeds_numbers():
    rules = {c.id: c for c in load_lead_unit_rules().criteria}
    assert (
        rules["revenue"].min == 10
        and rules["revenue"].threshold(EligibilityRegime.strategic_emerging) == 5
    )
    assert rules["rd_spend"].min == 2000 and rules["rd_staff"].min == 150
    assert rules["equipment"].min == 2000 and rules["rd_intensity"].min == 4
    assert "国家企业技术中心" in rules["national_base"].any_of


def test_exactly_at_every_threshold_is_eligible():
    report = check_lead_unit(enterprise())
    assert report.verdict is Verdict.eligible
    assert [r.regime for r in report.regimes] == [EligibilityRegime.general]


@pytest.mark.parametrize(
    ("figure", "value", "criterion"),
    [
        ("revenue_yi", 9.99, "revenue"),
        ("rd_spend_wan", 1999.0, "rd_spend"),
        ("rd_staff", 149, "rd_staff"),
        ("equipment_wan", 1999.0, "equipment"),
    ],
)
def test_just_below_a_threshold_is_not_eligible(figure, value, criterion):
    report = check_lead_unit(enterprise(**{figure: value}))
    assert report.verdict is Verdict.not_eligible
    check = status(report, criterion)
    assert check.status is Status.not_met and "<" in check.reason


def test_strategic_emerging_relaxes_revenue_to_5_and_needs_4_percent_rd_intensity():
    # 6亿 revenue, 2400万 R&D = 4% of revenue; staff and equipment far below the general floors.
    relaxed = enterprise(
        revenue_yi=6.0,
        rd_spend_wan=2400.0,
        rd_staff=40,
        equipment_wan=300.0,
        strategic_emerging=True,
    )
    report = check_lead_unit(relaxed)
    assert report.verdict is Verdict.eligible
    assert status(report, "revenue").reason == "6亿元 ≥ 5亿元"
    assert status(report, "rd_intensity").value == pytest.approx(4.0)
    staff = status(report, "rd_staff")
    assert staff.status is Status.not_met and not staff.binding and "仅作参考" in staff.reason
    assert check_lead_unit(relaxed.model_copy(update={"strategic_emerging": False})).verdict is (
        Verdict.not_eligible
    )


def test_strategic_emerging_below_4_percent_or_5_yi_is_not_eligible():
    low_intensity = enterprise(revenue_yi=20.0, rd_spend_wan=7000.0, strategic_emerging=True)
    assert status(check_lead_unit(low_intensity), "rd_intensity").status is Status.not_met
    assert check_lead_unit(low_intensity).verdict is Verdict.not_eligible
    small = enterprise(revenue_yi=4.9, rd_spend_wan=3000.0, strategic_emerging=True)
    assert check_lead_unit(small).verdict is Verdict.not_eligible


def test_a_missing_figure_is_unknown_never_met():
    report = check_lead_unit(enterprise(rd_staff=None))
    assert status(report, "rd_staff").status is Status.unknown
    assert report.verdict is Verdict.undetermined
    assert "年度研究与试验发展人员数" in report.reason


def test_a_missing_figure_does_not_hide_a_failed_one():
    report = check_lead_unit(enterprise(rd_staff=None, revenue_yi=2.0))
    assert report.verdict is Verdict.not_eligible


def test_unknown_strategic_flag_checks_both_readings():
    # Eligible only under the relaxed reading: undetermined until the flag is known.
    org = enterprise(revenue_yi=6.0, rd_spend_wan=3000.0, strategic_emerging=None)
    report = check_lead_unit(org)
    assert {r.regime for r in report.regimes} == {
        EligibilityRegime.general,
        EligibilityRegime.strategic_emerging,
    }
    assert report.verdict is Verdict.undetermined
    assert "战略性新兴产业" in report.reason
    both = enterprise(strategic_emerging=None, revenue_yi=30.0, rd_spend_wan=12000.0)
    assert check_lead_unit(both).verdict is Verdict.eligible
    # 5000万 is 1.7% of 30亿: fine for a general enterprise, short of 4% if strategic emerging.
    either = enterprise(strategic_emerging=None, revenue_yi=30.0, rd_spend_wan=5000.0)
    assert check_lead_unit(either).verdict is Verdict.undetermined


def test_rd_intensity_without_revenue_is_unknown():
    org = enterprise(revenue_yi=None, strategic_emerging=True)
    assert status(check_lead_unit(org), "rd_intensity").status is Status.unknown


def test_national_base_may_come_from_a_core_member_of_the_team():
    lacking = enterprise(national_bases=[])
    alone = check_lead_unit(lacking)
    assert status(alone, "national_base").status is Status.unknown
    assert alone.verdict is Verdict.undetermined
    holder = Organisation(
        id="u", name="示例大学", kind="university", national_bases=["国家工程研究中心"]
    )
    with_partner = check_lead_unit(lacking, partners=[holder])
    assert with_partner.verdict is Verdict.eligible
    assert "示例大学" in status(with_partner, "national_base").reason
    provincial = check_lead_unit(enterprise(national_bases=["省级企业技术中心"]), partners=[])
    assert status(provincial, "national_base").status is Status.not_met


def test_only_enterprises_lead_and_institutes_need_a_partner_with_10_yi_revenue():
    university = Organisation(id="u", name="示例大学", kind="university", **STRONG)
    assert check_lead_unit(university).verdict is Verdict.not_eligible
    institute = Organisation(
        id="i", name="示例研究院", kind="institute", national_bases=["国家工程实验室"]
    )
    assert check_lead_unit(institute).verdict is Verdict.undetermined
    assert check_lead_unit(institute, partners=[enterprise()]).verdict is Verdict.eligible
    assert check_lead_unit(institute, partners=[enterprise(revenue_yi=3.0)]).verdict is (
        Verdict.not_eligible
    )


def test_a_user_rules_file_changes_a_threshold(tmp_path):
    data = json.loads(load_lead_unit_rules().model_dump_json())
    next(c for c in data["criteria"] if c["id"] == "rd_staff")["min"] = 300
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    rules = load_lead_unit_rules(path)
    assert check_lead_unit(enterprise(rd_staff=200), rules).verdict is Verdict.not_eligible
    assert check_lead_unit(enterprise(rd_staff=200)).verdict is Verdict.eligible


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"lead_kinds": ["enterprise"], '
            '"criteria": [{"id": "x", "label": "x", "kind": "min"}]}',
            "lacks field, min",
        ),
        (
            '{"lead_kinds": ["enterprise"], "criteria": [{"id": "x", "label": "x", "kind": "min", '
            '"field": "profit", "min": 1}]}',
            "no organisation field 'profit'",
        ),
    ],
)
def test_a_bad_rules_file_is_a_data_error_naming_it(tmp_path, text, message):
    path = tmp_path / "rules.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        load_lead_unit_rules(path)
    assert str(path) in str(error.value)
