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


class FacetLabel(BaseModel):
    """One facet (技术要点) of a challenge that enumerates several."""

    id: str
    text: str


class FacetEvidence(BaseModel):
    """How an organisation stands on one facet of the challenge."""

    facet_id: str
    facet: str
    confidence: float = Field(ge=0, le=1, description="P(it can contribute to this facet).")
    covered: bool = Field(description="The confidence reaches the capable level.")
    evidence: str | None = Field(default=None, description="Its best passage for the facet.")


class Candidate(BaseModel):
    """A ranked organisation with the evidence behind its rank."""

    org_id: str
    name: str
    kind: str
    region: str
    score: float | None = Field(
        default=None,
        description="Aggregated evidence score for the whole text, in deviations above the "
        "query's reference background; none when only a facet reached the organisation.",
    )
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
    facets: list[FacetEvidence] = Field(
        default_factory=list,
        description="Per facet of a challenge that enumerates several: confidence, whether it "
        "is covered, and the evidence. The candidate's confidence is its best over the whole "
        "text and these.",
    )


class MatchResult(BaseModel):
    """Ranked candidates for one query; `reason` explains an empty list."""

    query: str
    candidates: list[Candidate]
    facets: list[FacetLabel] = Field(
        default_factory=list, description="The challenge's facets, when it enumerates several."
    )
    reason: str | None = None
    capable: float | None = Field(
        default=None, description="The confidence from which a candidate counts as capable."
    )
