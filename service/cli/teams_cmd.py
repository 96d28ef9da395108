"""`jiebang solvers`, `consortium` and `eligibility`: teams for a challenge (issue 4)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from corpus.catalogue import ID_PREFIX
from corpus.errors import JiebangError
from corpus.loaders import load_organisations
from embed.segment import Segmenter
from matcher.teams.consortium import ConsortiumResult, Team
from matcher.teams.eligibility import (
    EligibilityReport,
    Status,
    check_lead_unit,
    load_lead_unit_rules,
)
from matcher.teams.facets import Facet
from matcher.teams.solvers import SolverResult
from service.cli.common import challenge_book, console, saved_engine, settings, user_errors
from service.cli.options import request_options
from service.usecases import teams
from service.usecases.teams import SolverRequest, TeamRequest

_SNIPPET = 60

CHALLENGE_HELP = f"Catalogue id (e.g. {ID_PREFIX}-06-01), a whole area ({ID_PREFIX}-06), or text."
FACET_HELP = "Give the facets yourself (repeat the option); replaces the automatic decomposition."


@user_errors
@request_options("request", SolverRequest)
def solvers(
    challenge: str = typer.Option(..., "--challenge", "-c", help=CHALLENGE_HELP),
    facet: list[str] = typer.Option([], "--facet", "-f", help=FACET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    request: SolverRequest = SolverRequest(),
) -> None:
    """揭榜挂帅: single organisations able to take the whole challenge, by facets covered."""
    config = settings()
    target = challenge_book(config).target(challenge)
    engine = saved_engine(config)
    result = teams.solvers(engine, target, request, Segmenter(), facet)
    if as_json:
        typer.echo(result.model_dump_json(indent=1))
    else:
        _print_solvers(target.label, result)


@user_errors
@request_options("request", TeamRequest)
def consortium(
    challenge: str = typer.Option(..., "--challenge", "-c", help=CHALLENGE_HELP),
    facet: list[str] = typer.Option([], "--facet", "-f", help=FACET_HELP),
    rules: Path | None = typer.Option(None, help="Lead-unit rules (JSON); default: the seed's."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    request: TeamRequest = TeamRequest(),
) -> None:
    """公司+联盟: teams that jointly cover the challenge's facets, with a qualified lead unit."""
    config = settings()
    lead_rules = load_lead_unit_rules(rules)
    target = challenge_book(config).target(challenge)
    engine = saved_engine(config)
    result = teams.consortia(engine, target, request, Segmenter(), facet, lead_rules)
    if as_json:
        typer.echo(result.model_dump_json(indent=1))
    else:
        _print_consortia(target.label, result)


@user_errors
def eligibility(
    org_id: str = typer.Argument(..., help="Organisation id."),
    orgs: Path | None = typer.Option(None, help="Organisations file; default: the built index."),
    rules: Path | None = typer.Option(None, help="Lead-unit rules (JSON); default: the seed's."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Check an organisation against the seed's 牵头单位 criteria (四（一）)."""
    lead_rules = load_lead_unit_rules(rules)
    if orgs is not None:
        organisations = {o.id: o for o in load_organisations(orgs).records}
    else:
        organisations = saved_engine(settings()).organisations
    if org_id not in organisations:
        raise JiebangError(f"unknown organisation id '{org_id}'")
    report = check_lead_unit(organisations[org_id], lead_rules)
    if as_json:
        typer.echo(report.model_dump_json(indent=1))
    else:
        _print_eligibility(report)


def _snip(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def _print_facets(facets: list[Facet], threshold: float) -> None:
    table = Table(title=f"技术要点（facets）· 覆盖阈值 {threshold:.2f}", show_header=True)
    table.add_column("id")
    table.add_column("要点")
    table.add_column("上下文", style="dim")
    for facet in facets:
        table.add_row(facet.id, facet.text, facet.context.strip())
    console.print(table)


def _cell(value: float, threshold: float) -> str:
    colour = "green" if value >= threshold else "red"
    return f"[{colour}]{value:.2f}[/]"


def _print_solvers(label: str, result: SolverResult) -> None:
    console.print(f"[bold]{label}[/] {result.query}")
    _print_facets(result.facets, result.gap_threshold)
    if result.solvers:
        table = Table(
            title="揭榜挂帅：单一揭榜单位（按覆盖要点数、再按预期承担份额排序）", show_lines=True
        )
        table.add_column("#", justify="right")
        table.add_column("单位", overflow="fold")
        table.add_column("类型 · 地区")
        table.add_column("覆盖", justify="right")
        table.add_column("预期份额", justify="right")
        table.add_column("各要点覆盖度")
        table.add_column("最强要点的证据")
        for solver in result.solvers:
            strongest = max(solver.facets, key=lambda f: f.coverage)
            table.add_row(
                str(solver.rank),
                solver.name,
                f"{solver.kind.label_zh} · {solver.region}",
                f"{solver.covered_facets}/{len(solver.facets)}",
                f"{solver.expected_share:.0%}",
                " ".join(
                    f"{f.facet_id} {_cell(f.coverage, result.gap_threshold)}" for f in solver.facets
                ),
                f"{strongest.facet_id}: {_snip(strongest.evidence)}",
            )
        console.print(table)
    for note in result.notes:
        console.print(f"[yellow]注意：[/]{note}")
    most = max((solver.covered_facets for solver in result.solvers), default=0)
    if result.facets and most < len(result.facets):
        console.print("[dim]组建联合体：jiebang consortium --challenge …[/]")


def _print_team(team: Team, threshold: float) -> None:
    console.rule(
        f"[bold]队伍 {team.rank}[/] · 覆盖 {team.covered_facets}/{len(team.facets)} 个要点 · "
        f"覆盖度 {team.coverage:.2f} · {team.method}"
    )
    members = Table(show_lines=True)
    members.add_column("角色")
    members.add_column("单位", overflow="fold")
    members.add_column("类型 · 地区")
    members.add_column("可承担的要点", overflow="fold")
    for member in team.members:
        members.add_row(
            "牵头" if member.role == "lead" else "成员",
            member.name,
            f"{member.kind.label_zh} · {member.region}",
            "、".join(member.covers) or "[dim]— 未达任何要点（补足规模或产学研要求）[/]",
        )
    console.print(members)
    if team.lead:
        colour = "yellow" if team.lead.flagged else "green"
        console.print(f"[{colour}]牵头单位：{team.lead.name}[/] — {team.lead.why}")
    facets = Table(show_lines=True)
    facets.add_column("要点")
    facets.add_column("最佳成员", overflow="fold")
    facets.add_column("覆盖度", justify="right")
    facets.add_column("证据")
    for cover in team.facets:
        flag = " [red]缺口[/]" if cover.gap else ""
        facets.add_row(
            f"{cover.facet_id} {cover.facet}{flag}",
            cover.name or "—",
            _cell(cover.coverage, threshold),
            _snip(cover.evidence),
        )
    console.print(facets)
    for note in team.notes:
        console.print(f"[yellow]注意：[/]{note}")


def _print_consortia(label: str, result: ConsortiumResult) -> None:
    console.print(f"[bold]{label}[/] {result.query}")
    threshold = result.options.gap_threshold
    if threshold is None:  # `propose_consortia` always sets it
        raise ValueError("a consortium result without its gap threshold")
    _print_facets(result.facets, threshold)
    for team in result.teams:
        _print_team(team, threshold)
    for note in result.notes:
        console.print(f"[yellow]注意：[/]{note}")


def _print_eligibility(report: EligibilityReport) -> None:
    colour = {"eligible": "green", "not_eligible": "red", "undetermined": "yellow"}
    console.print(
        f"[bold]{report.name}[/]（{report.org_id}，{report.kind.label_zh}）牵头单位资格："
        f"[{colour[report.verdict.value]}]{report.verdict.label_zh}[/] — {report.reason}"
    )
    marks = {Status.met: "[green]✓ 满足[/]", Status.not_met: "[red]✗ 不满足[/]"}
    for regime in report.regimes:
        table = Table(title=f"按{regime.regime.label_zh}：{regime.verdict.label_zh}")
        table.add_column("条件")
        table.add_column("结果")
        table.add_column("硬性", justify="center")
        table.add_column("说明")
        for check in regime.checks:
            table.add_row(
                check.label,
                marks.get(check.status, "[yellow]? 未知[/]"),
                "是" if check.binding else "参考",
                check.reason,
            )
        console.print(table)
    console.print(f"[dim]依据：{report.source}[/]")


def register(app: typer.Typer) -> None:
    app.command("solvers")(solvers)
    app.command("consortium")(consortium)
    app.command("eligibility")(eligibility)
