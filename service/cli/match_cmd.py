"""`jiebang match`: ranked candidate organisations for a challenge."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from corpus.errors import JiebangError
from corpus.models import OrgKind, year_of
from matcher.results import MatchResult
from service.cli.common import challenge_book, console, saved_engine, settings, user_errors
from service.cli.options import request_options
from service.usecases.matching import MatchRequest


@user_errors
@request_options("request", MatchRequest)
def match(
    text: str | None = typer.Argument(None, help="Challenge text (or use --challenge)."),
    challenge: str | None = typer.Option(
        None, "--challenge", "-c", help="A challenge id (ZJ2021-06-01, U-…) or a whole area."
    ),
    request: MatchRequest = MatchRequest(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    file: Path | None = typer.Option(
        None, "--file", help="Rank every challenge of a list (.xlsx, .docx, .pdf, .csv, .jsonl)."
    ),
    out: Path | None = typer.Option(
        None, help="With --file: the shortlist workbook (default: FILE-STEM.shortlist.xlsx here)."
    ),
    skip_invalid: bool = typer.Option(False, help="With --file: skip bad items, listing each."),
) -> None:
    """Rank candidate organisations for a challenge, with the evidence behind each rank."""
    if file is not None:
        if text is not None or challenge is not None:
            raise JiebangError("give one of TEXT, --challenge ID or --file FILE")
        from service.cli.importing import match_file

        match_file(file, out, request=request, as_json=as_json, skip_invalid=skip_invalid)
        return
    if (text is None) == (challenge is None):
        raise JiebangError("give either TEXT or --challenge ID")
    config = settings()
    target = challenge_book(config).target(challenge if challenge is not None else text or "")
    area = target.challenge.area if target.challenge is not None else None
    result = request.match(saved_engine(config), target.query, area=area)
    if as_json:
        typer.echo(json.dumps(to_json(result), ensure_ascii=False, indent=1))
    else:
        print_result(target.label, result)


def to_json(result: MatchResult) -> list[dict]:
    """The CLI's JSON contract: `{org_id, name, kind, region, score, evidence: [{text, score}]}`
    plus the richer fields (confidence, channels, shared terms)."""
    return [c.model_dump() for c in result.candidates]


def print_result(label: str, result: MatchResult) -> None:
    """A rich table: one row per candidate, its best evidence under its name."""
    console.print(f"[bold]{label}[/] {result.query}", highlight=False)
    if not result.candidates:
        console.print(f"[yellow]no candidates:[/] {result.reason}")
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("#", justify="right", width=2)
    table.add_column("organisation · best evidence", ratio=1, overflow="fold")
    table.add_column("kind · region", max_width=18)
    table.add_column("conf.", justify="right", width=6)
    for rank, c in enumerate(result.candidates, start=1):
        best = c.evidence[0].text if c.evidence else ""
        best = best if len(best) <= 70 else best[:68] + "…"
        if c.evidence and (year := year_of(c.evidence[0].date)) is not None:
            best = f"〔{year}〕{best}"
        covers = [f.facet for f in c.facets if f.covered]
        facets = f"\n[green]covers: {escape('、'.join(covers))}[/]" if covers else ""
        table.add_row(
            str(rank),
            f"[bold]{escape(c.name)}[/]{facets}\n[dim]{escape(best)}[/]",
            f"{OrgKind(c.kind).label_zh} · {c.region}",
            f"{c.confidence:.2f}" + (" ✓" if capable(c.confidence, result) else ""),
        )
    console.print(table)
    facets = (
        f" The challenge lists {len(result.facets)} technologies: working on one of them "
        "(covers) is enough to contribute."
        if result.facets
        else ""
    )
    console.print(
        "[dim]conf. = P(the organisation can contribute to this challenge), calibrated on 95 real "
        f"published challenges; ✓ = capable (≥ {result.capable:.2f}).{facets}[/]"
    )
    if result.reason:
        console.print(f"[yellow]note:[/] {result.reason}", highlight=False)


def capable(confidence: float, result: MatchResult) -> bool:
    return result.capable is not None and confidence >= result.capable


def register(app: typer.Typer) -> None:
    app.command("match")(match)
