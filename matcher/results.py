"""What a match returns; every face (CLI, API, reports) serialises these models."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EvidenceHit(BaseModel):
    """One passage of an organisation's evidence and how well it matched."""

    text: str
    score: float = Field(description="Fused relevance of this passage to the query.")
    source: str = Field(description="'capability' or 'patent'.")
    ref: str | None = Field(default=None, description="Patent id, when the source is a patent.")
    date: str | None = Field(default=None, description="The patent's date, when it has one.")
    highlighted: str | None = Field(
        default=None, description="HTML-escaped text with matched terms in <mark>."
    )


class Candidate(BaseModel):
    """A ranked organisation with the evidence behind its rank."""

    org_id: str
    name: str
    kind: str
    region: str
    score: float = Field(description="Aggregated evidence score; comparable within one query.")
    confidence: float = Field(
        ge=0,
        le=1,
        description="P(this organisation can contribute to this challenge), calibrated on real "
        "published challenges.",
    )
    evidence: list[EvidenceHit] = Field(default_factory=list)
    channels: dict[str, float] = Field(
        default_factory=dict, description="Each retrieval channel's contribution to the score."
    )
    shared_terms: list[str] = Field(
        default_factory=list, description="Key terms the query and the organisation share."
    )


class MatchResult(BaseModel):
    """Ranked candidates for one query; `reason` explains an empty list."""

    query: str
    candidates: list[Candidate]
    reason: str | None = None
    capable: float | None = Field(
        default=None, description="The confidence from which a candidate counts as capable."
    )
