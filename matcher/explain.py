"""Why an organisation ranks where it does: its best passages with the matched words marked,
each channel's share of the score, and the key terms the query and the organisation share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property

from embed.segment import BIGRAM_MARK, Segmenter
from matcher.evidence import Passage
from matcher.fusion import ChannelScores
from matcher.ranking import Ranking
from matcher.results import Candidate, EvidenceHit

# Query keywords considered for `shared_terms`, and how many of them a candidate shows.
QUERY_KEYWORDS = 30
SHARED_TERMS = 8
RAW_NAMES = {"dense": "cosine", "lexical": "tfidf"}


class Explainer:
    """Explains candidates from the passage store; words come from its own `Segmenter`."""

    def __init__(self, passages: Mapping[int, Passage], terms: Iterable[str] = ()) -> None:
        self.passages = passages
        self.terms = tuple(terms)
        self._query: tuple[str, set[str], list[str]] | None = None

    @cached_property
    def segmenter(self) -> Segmenter:
        return Segmenter(extra_terms=self.terms)

    def _query_terms(self, text: str) -> tuple[set[str], list[str]]:
        """(terms, keywords) of the query; kept for the next call, the same query's candidates."""
        if self._query is None or self._query[0] != text:
            terms = set(self.segmenter.sparse_terms(text))
            self._query = (text, terms, self.segmenter.keywords(text, QUERY_KEYWORDS))
        return self._query[1], self._query[2]

    def matched_terms(self, query_terms: set[str], passage_text: str) -> list[str]:
        """Query words found in the passage, longest first; its shared bigrams when no word is."""
        shared = query_terms.intersection(self.segmenter.sparse_terms(passage_text))
        words = [t for t in shared if not t.startswith(BIGRAM_MARK)]
        chosen = words or [t.removeprefix(BIGRAM_MARK) for t in shared]
        return sorted(chosen, key=lambda t: (-len(t), t))

    def explain(
        self,
        candidate: Candidate,
        text: str,
        pids: list[int],
        hits: Mapping[str, ChannelScores],
        ranking: Ranking,
    ) -> None:
        """Fill `candidate`'s evidence (its passages `pids`, best first), channels and terms."""
        query_terms, keywords = self._query_terms(text)
        candidate.evidence = [
            EvidenceHit(
                text=self.passages[pid].text,
                score=round(ranking.fused[pid], 4),
                source=self.passages[pid].source,
                ref=self.passages[pid].ref,
                highlighted=Segmenter.highlight(
                    self.passages[pid].text,
                    self.matched_terms(query_terms, self.passages[pid].text),
                ),
            )
            for pid in pids
        ]
        best = pids[0]
        channels = {name: round(share[best], 4) for name, share in ranking.contributions.items()}
        channels["fused"] = round(ranking.fused[best], 4)
        for name in ranking.contributions:
            if best in hits[name].raw:
                channels[RAW_NAMES[name]] = round(hits[name].raw[best], 4)
        candidate.channels = channels
        words = {t for pid in pids for t in self.segmenter.sparse_terms(self.passages[pid].text)}
        candidate.shared_terms = [k for k in keywords if k in words][:SHARED_TERMS]
