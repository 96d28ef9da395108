"""Why an organisation ranks where it does: its best passages with the matched terms marked,
each channel's share of the score, and the key terms the query and the organisation share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from embed.segment import BIGRAM_MARK, Segmenter
from matcher.results import Candidate, EvidenceHit

if TYPE_CHECKING:
    from matcher.engine import ChannelHits, MatchEngine

# Query keywords considered for `shared_terms`, and how many of them a candidate shows.
QUERY_KEYWORDS = 30
SHARED_TERMS = 8


class Explainer:
    """Explains candidates for one query; built once per `match`, shared by its candidates."""

    def __init__(
        self,
        engine: MatchEngine,
        text: str,
        hits: ChannelHits,
        fused: dict[int, float],
        contributions: dict[str, dict[int, float]],
    ) -> None:
        self.engine = engine
        self.hits = hits
        self.fused = fused
        self.contributions = contributions
        segmenter = engine.sparse.segmenter
        self.query_terms = set(segmenter.sparse_terms(text))
        self.query_keywords = segmenter.keywords(text, QUERY_KEYWORDS)

    def matched_terms(self, pid: int) -> list[str]:
        """Query words found in the passage, longest first; its shared bigrams when no word is."""
        shared = self.query_terms.intersection(self.engine.sparse.tokens(pid))
        words = [t for t in shared if not t.startswith(BIGRAM_MARK)]
        chosen = words or [t.removeprefix(BIGRAM_MARK) for t in shared]
        return sorted(chosen, key=lambda t: (-len(t), t))

    def explain(self, candidate: Candidate, pids: list[int], evidence: int) -> None:
        """Fill `candidate`'s evidence, channels and shared terms from its passages `pids`
        (best first); the first `evidence` of them become its evidence hits."""
        passages = self.engine.passages
        candidate.evidence = [
            EvidenceHit(
                text=passages[pid].text,
                score=round(self.fused[pid], 4),
                source=passages[pid].source,
                ref=passages[pid].ref,
                highlighted=Segmenter.highlight(passages[pid].text, self.matched_terms(pid)),
            )
            for pid in pids[:evidence]
        ]
        best = pids[0]
        channels = {name: round(share[best], 4) for name, share in self.contributions.items()}
        channels["fused"] = round(self.fused[best], 4)
        raw_names = {"dense": "cosine", "sparse": "bm25"}
        for name, scores in self.hits.items():
            if name in self.hits.ranked and best in scores:
                channels[raw_names[name]] = round(scores[best], 4)
        candidate.channels = channels
        words = {t for pid in pids for t in self.engine.sparse.tokens(pid)}
        candidate.shared_terms = [k for k in self.query_keywords if k in words][:SHARED_TERMS]
