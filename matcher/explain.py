"""Why an organisation ranks where it does: its best passages with the matched words marked,
each channel's share of the score, and the key terms the query and the organisation share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property, lru_cache

from embed.segment import BIGRAM_MARK, Segmenter
from matcher.evidence import Passage
from matcher.fusion import ChannelScores
from matcher.hybrid import Ranking
from matcher.results import Candidate, EvidenceHit

# Query keywords considered for `shared_terms`, and how many of them a candidate shows.
QUERY_KEYWORDS = 30
SHARED_TERMS = 8
RAW_NAMES = {"dense": "cosine", "lexical": "tfidf"}
PASSAGE_TERMS_CACHED = 8192


class Explainer:
    """Explains candidates from the passage store; words come from its own `Segmenter`."""

    def __init__(self, passages: Mapping[int, Passage], terms: Iterable[str] = ()) -> None:
        self.passages = passages
        self.terms = tuple(terms)
        self._query: tuple[str, set[str], list[str]] | None = None

    @cached_property
    def segmenter(self) -> Segmenter:
        return Segmenter(extra_terms=self.terms)

    @cached_property
    def _passage_terms(self) -> Callable[[str], frozenset[str]]:
        """A passage's terms, memoised: each is read twice per explanation (highlights, shared
        terms), and the best passages recur across queries; segmenting them was a third of a
        match at 10⁵ passages (profiled)."""
        return lru_cache(maxsize=PASSAGE_TERMS_CACHED)(
            lambda text: frozenset(self.segmenter.sparse_terms(text))
        )

    def _query_terms(self, text: str) -> tuple[set[str], list[str]]:
        """(terms, keywords) of the query; kept for the next call, the same query's candidates."""
        if self._query is None or self._query[0] != text:
            terms = set(self.segmenter.sparse_terms(text))
            self._query = (text, terms, self.segmenter.keywords(text, QUERY_KEYWORDS))
        return self._query[1], self._query[2]

    def matched_terms(self, query_terms: set[str], passage_text: str) -> list[str]:
        """Query words found in the passage, longest first; its shared bigrams when no word is."""
        shared = query_terms.intersection(self._passage_terms(passage_text))
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
        fused = ranking.fused
        candidate.evidence = [
            EvidenceHit(
                text=self.passages[pid].text,
                score=round(float(fused.scores[ranking.row(pid)]), 4),
                source=self.passages[pid].source,
                ref=self.passages[pid].ref,
                date=self.passages[pid].date,
                highlighted=Segmenter.highlight(
                    self.passages[pid].text,
                    self.matched_terms(query_terms, self.passages[pid].text),
                ),
            )
            for pid in pids
        ]
        best = ranking.row(pids[0])
        channels = {name: round(float(part[best]), 4) for name, part in fused.contributions.items()}
        channels["fused"] = round(float(fused.scores[best]), 4)
        for name in fused.contributions:
            raw = hits[name].raw_of(pids[0])
            if raw is not None:
                channels[RAW_NAMES[name]] = round(raw, 4)
        candidate.channels = channels
        words = set().union(*(self._passage_terms(self.passages[pid].text) for pid in pids))
        candidate.shared_terms = [k for k in keywords if k in words][:SHARED_TERMS]
