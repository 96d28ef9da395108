"""Patent navigation (专利导航): who patents what, per challenge and per area.

Counts, per challenge and per area, the patents of a matches file (streamed by
`service.export.bulk.read_matches`, beside the writer of that file):

- `patents`: distinct patents matched to it (a patent matching two challenges of one area counts
  once for the area);
- the top applicants, with their kind — from `known` organisations where the name is known,
  else inferred from the name (`applicants.infer_kind`);
- `years`: patents per year (of the patent's date: the application date in an export that
  has one), where the matches file carries dates;
- `zhejiang_share`: the share of patents with a Zhejiang applicant, among patents with at least
  one applicant whose region is known (from `known`, else `applicants.infer_province`);
  `region_known` says how many patents that share rests on.

The tables and charts are written by `service.export.landscape`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from corpus.models import Challenge, Organisation, OrgKind
from corpus.names import ZHEJIANG, infer_kind, infer_province

TOP_APPLICANTS = 10


@dataclass(frozen=True)
class MatchedPatent:
    """One patent of a matches file and the challenges it matched."""

    patent_id: str
    applicants: tuple[str, ...]
    challenges: tuple[tuple[str, int | None, str, str], ...]  # (id, area_no, area, text)
    year: int | None = None


@dataclass(frozen=True)
class ApplicantInfo:
    """What is known or inferred about one applicant."""

    kind: OrgKind
    province: str | None


@dataclass
class Tally:
    """Counts for one challenge or one area."""

    key: str
    label: str
    area_no: int | None
    area: str
    patents: int = 0
    zhejiang: int = 0
    region_known: int = 0
    applicants: Counter[str] = field(default_factory=Counter)
    kinds: Counter[OrgKind] = field(default_factory=Counter)
    years: Counter[int] = field(default_factory=Counter)

    @property
    def zhejiang_share(self) -> float | None:
        return self.zhejiang / self.region_known if self.region_known else None


@dataclass
class Landscape:
    """Per-challenge and per-area tallies, and the applicant facts they used."""

    challenges: dict[str, Tally]
    areas: dict[str, Tally]
    applicants: dict[str, ApplicantInfo]
    patents: int = 0
    unmatched: int = 0


def build_landscape(
    matches: Iterator[MatchedPatent],
    challenges: Sequence[Challenge] = (),
    known: Mapping[str, Organisation] | None = None,
) -> Landscape:
    """Tally `matches`; `challenges` (e.g. the catalogue) appear even with no patent.

    `known` maps applicant names to organisations whose kind and province override inference.
    """
    known = known or {}
    landscape = Landscape({}, {}, {})
    for challenge in challenges:
        area_no = challenge.area_no
        _tally(landscape.challenges, challenge.id, challenge.text, area_no, challenge.area)
        _tally(landscape.areas, challenge.area, challenge.area, challenge.area_no, challenge.area)
    for patent in matches:
        landscape.patents += 1
        if not patent.challenges:
            landscape.unmatched += 1
            continue
        infos = [_applicant(landscape.applicants, name, known) for name in patent.applicants]
        seen_areas: set[str] = set()
        for challenge_id, area_no, area, text in patent.challenges:
            _count(_tally(landscape.challenges, challenge_id, text, area_no, area), patent, infos)
            if area not in seen_areas:
                seen_areas.add(area)
                _count(_tally(landscape.areas, area, area, area_no, area), patent, infos)
    return landscape


def _tally(table: dict[str, Tally], key: str, label: str, area_no: int | None, area: str) -> Tally:
    if key not in table:
        table[key] = Tally(key, label, area_no, area)
    return table[key]


def _applicant(
    cache: dict[str, ApplicantInfo], name: str, known: Mapping[str, Organisation]
) -> ApplicantInfo:
    if name not in cache:
        org = known.get(name)
        known_kind = org is not None and org.kind is not OrgKind.other
        kind = org.kind if known_kind and org is not None else infer_kind(name)
        province = org.region.province if org is not None and org.region.province else None
        if province is not None:
            province = ZHEJIANG if ZHEJIANG in province else province
        cache[name] = ApplicantInfo(kind, province or infer_province(name))
    return cache[name]


def _count(tally: Tally, patent: MatchedPatent, infos: list[ApplicantInfo]) -> None:
    tally.patents += 1
    if patent.year is not None:
        tally.years[patent.year] += 1
    tally.applicants.update(set(patent.applicants))
    tally.kinds.update({info.kind for info in infos})
    if any(info.province for info in infos):
        tally.region_known += 1
        tally.zhejiang += any(info.province == ZHEJIANG for info in infos)


# --- output -------------------------------------------------------------------------------
