"""The catalogue's challenges as an index grouped by area: bulk matching and area inference.

A text (a patent, a posted challenge) is a query against the challenges through the engine's
two retrievers (`matcher.retrieval`), fused by `matcher.hybrid.fuse_hits` as the calibration's
regime for its length says (weights, mode and `rrf_k`: the shipped calibrations fuse by z-score,
where `rrf_k` plays no part). Per
area it keeps its best fused challenge and the raw channel scores behind it (`Retrieved`): what
bulk matching's area decisions and `infer_area` start from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus.catalogue import Catalogue
from corpus.errors import JiebangError
from corpus.models import Challenge
from embed.chunk import split_passages
from embed.embedder import Embedder
from embed.lexical_index import LexicalIndex
from embed.vector_index import VectorIndex
from matcher.calibration import AREA_FEATURES, Calibration, RankingConfig
from matcher.hybrid import fuse_hits
from matcher.retrieval import dense_hits, lexical_hits


@dataclass(frozen=True)
class Retrieved:
    """Texts against the challenges' areas: retrieval features, best challenges, raw cosines."""

    features: np.ndarray  # texts × areas × the retrieval part of AREA_FEATURES
    best_challenge: np.ndarray  # texts × areas: index into the challenges
    cosine: np.ndarray  # texts × challenges, raw
    vectors: np.ndarray  # texts × dim: the mean of each text's passage vectors

    @classmethod
    def concatenate(cls, parts: Sequence[Retrieved]) -> Retrieved:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _RETRIEVED_FIELDS))


_RETRIEVED_FIELDS = ("features", "best_challenge", "cosine", "vectors")


@dataclass(frozen=True)
class EncodedTexts:
    """Texts' passage vectors, and which text owns each passage: what retrieval starts from."""

    vectors: np.ndarray  # passages × dim
    owners: np.ndarray  # passages: index of the text


RETRIEVAL_FEATURES = AREA_FEATURES[:3]


class ChallengeIndex:
    """The challenges in both channels, grouped by area; a text retrieves from them as a query.

    Challenges are encoded as queries and texts as passages (the roles measured best on
    `patent-area`, and a patent already indexed as evidence costs a cache lookup).
    """

    def __init__(
        self,
        embedder: Embedder,
        challenges: Sequence[Challenge],
        ranking: RankingConfig,
        areas: Sequence[int],
    ) -> None:
        self.embedder = embedder
        self.challenges = list(challenges)
        self.ranking = ranking
        self.areas = list(areas)
        unknown = sorted({c.id for c in self.challenges if c.area_no not in self.areas})
        if unknown:
            raise JiebangError(
                f"{len(unknown)} challenge(s) have no catalogue area (e.g. {unknown[0]}); "
                "bulk matching decides by area: give them one of the catalogue's areas"
            )
        ids = np.arange(len(self.challenges), dtype=np.int64)
        texts = [c.query_text for c in self.challenges]
        self.vectors = VectorIndex(embedder.dim, embedder.model_id)
        self.vectors.add(ids, embedder.encode_queries(texts))
        self.lexical = LexicalIndex()
        self.lexical.add(ids, texts)
        position: dict[int | None, int] = {area: n for n, area in enumerate(self.areas)}
        self._area_of = np.array([position[c.area_no] for c in self.challenges])

    def encode(self, texts: Sequence[str]) -> EncodedTexts:
        """The texts cut into passages and encoded: the part of `retrieve` that is encoding."""
        passages, owners = _flatten([split_passages(text) or [text] for text in texts])
        return EncodedTexts(self.embedder.encode_passages(passages, progress=False), owners)

    def retrieve(self, texts: Sequence[str], encoded: EncodedTexts | None = None) -> Retrieved:
        """Each text's best fused challenge per area, with the raw channel scores behind it.

        `encoded` is `encode(texts)` when it was done already (bulk matching encodes the next
        window while this one is retrieved).
        """
        encoded = encoded or self.encode(texts)
        vectors, owners = encoded.vectors, encoded.owners
        n, depth = len(texts), len(self.challenges)
        features = np.zeros((n, len(self.areas), len(RETRIEVAL_FEATURES)))
        best = np.zeros((n, len(self.areas)), dtype=np.int64)
        cosine = np.full((n, depth), -1.0)
        means = np.zeros((n, vectors.shape[1]))
        for i, text in enumerate(texts):
            own = vectors[owners == i]
            means[i] = own.mean(axis=0)
            hits = {
                "dense": dense_hits(self.vectors, own, depth),
                "lexical": lexical_hits(self.lexical, text, depth),
            }
            fused = fuse_hits(hits, self.ranking.regime_for(text).fusion)
            floor = fused.floor
            row = np.full(depth, floor)
            row[fused.pids] = fused.scores
            cosine[i, hits["dense"].pids] = hits["dense"].raw
            lexical = np.zeros(depth)
            lexical[hits["lexical"].pids] = hits["lexical"].raw
            for a in range(len(self.areas)):
                members = np.flatnonzero(self._area_of == a)
                if not len(members):
                    features[i, a] = (floor, -1.0, 0.0)
                    continue
                top = members[np.argmax(row[members])]
                best[i, a] = top
                features[i, a] = (row[top], cosine[i, members].max(), lexical[members].max())
        return Retrieved(features, best, cosine, means)


def infer_area(index: ChallengeIndex, text: str) -> Challenge:
    """The catalogue challenge whose area best fits `text` (its best fused challenge's area)."""
    retrieved = index.retrieve([text])
    area = int(np.argmax(retrieved.features[0, :, 0]))
    return index.challenges[int(retrieved.best_challenge[0, area])]


def _flatten(groups: list[list[str]]) -> tuple[list[str], np.ndarray]:
    flat = [item for group in groups for item in group]
    owners = np.repeat(np.arange(len(groups)), [len(group) for group in groups])
    return flat, owners


class AreaIndex:
    """Infers the catalogue area of a challenge posted without one."""

    def __init__(self, embedder: Embedder, catalogue: Catalogue, calibration: Calibration) -> None:
        self.catalogue = catalogue
        self.index = ChallengeIndex(
            embedder, catalogue.challenges, calibration.ranking, [a.no for a in catalogue.areas]
        )

    def infer(self, text: str) -> tuple[int | None, str]:
        """(area number, area name) of the catalogue area nearest to `text`."""
        nearest = infer_area(self.index, text)
        return nearest.area_no, nearest.area
