"""What the running service holds: settings, database, catalogue, the engine, its lock, jobs.

The model and index are loaded once, in a background thread started by the app's lifespan, so
`/healthz` answers at once and `/readyz` says when matching is possible. The database is the
source of truth for organisations posted or deleted through the API; on loading, the index is
brought in line with it by incremental updates, never a rebuild.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from corpus.catalogue import Catalogue
from corpus.errors import JiebangError
from corpus.faults import point
from corpus.models import Challenge, Organisation
from embed.embedder import Embedder
from embed.segment import Segmenter
from matcher.areas import AreaIndex
from matcher.engine import MatchEngine
from service.api.errors import Conflict, ErrorCode, NotFound, NotReady
from service.api.rwlock import ReadWriteLock
from service.components import build_embedder, catalogue
from service.db import Database
from service.settings import Settings
from service.usecases.capability import ChallengeScores
from service.usecases.challenges import ChallengeBook
from service.usecases.engine import open_engine
from service.usecases.health import reconcile

log = logging.getLogger("jiebang.api")


class ServiceState:
    """Shared by every request. Engine access goes through `reading()`/`writing()`."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.catalogue: Catalogue = catalogue(settings)
        self.book = ChallengeBook(self.catalogue, db.list_challenges, db.get_challenge)
        self.lock = ReadWriteLock()
        self._engine: MatchEngine | None = None
        self.segmenter = Segmenter()
        self._load_error: str | None = None
        self._areas: AreaIndex | None = None
        self._areas_lock = threading.Lock()
        # Confidences per challenge text (organisation pages, roadmap); reset by org writes.
        self.scores = ChallengeScores()

    # -- loading --------------------------------------------------------------------------

    def load(self) -> None:
        """Open the engine and reconcile it with the database (run once, in a thread)."""
        try:
            embedder = build_embedder(self.settings)
            if self.settings.ray_address:  # bulk jobs' (and big upserts') batches go to Ray
                from service.usecases.scale_out import use_ray

                config = self.settings
                use_ray(embedder, config, config.ray_address, config.ray_workers)
                log.info("encoding batches on Ray at %s", config.ray_address)
            engine = open_engine(self.settings, embedder)
            report = reconcile(engine, self.db)
            if report.upserted or report.removed:
                engine.save(self.index_dir)
            seconds = embedder.warm(self.settings.warm_tokens)
            log.info("encoder readied for queries in %.1f s", seconds)
            log.info(
                "index ready: %d organisations (%d upserted, %d removed from the database)",
                len(engine.organisations),
                report.upserted,
                report.removed,
            )
            self._engine = engine
        except Exception as error:  # reported by /readyz and every engine request
            log.exception("loading the model and index failed")
            self._load_error = f"{type(error).__name__}: {error}"

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def load_error(self) -> str | None:
        return self._load_error

    @property
    def index_dir(self) -> Path:
        return self.settings.resolved_index_dir

    @property
    def embedder(self) -> Embedder:
        """The loaded embedder (bulk jobs encode with it); 503 until loaded."""
        return self.engine.embedder

    @property
    def engine(self) -> MatchEngine:
        """The loaded engine; 503 while it is still loading or if loading failed."""
        if self._engine is None:
            raise self._not_ready()
        return self._engine

    def require_ready(self) -> None:
        """503 unless the model and index are loaded."""
        if self._engine is None:
            raise self._not_ready()

    def _not_ready(self) -> NotReady:
        if self._load_error:
            return NotReady(ErrorCode.not_ready, f"模型或索引加载失败：{self._load_error}")
        return NotReady(ErrorCode.not_ready, "服务正在启动：模型和索引还在加载，请稍候")

    # -- challenges -----------------------------------------------------------------------

    def infer_area(self, text: str) -> tuple[int | None, str]:
        """The catalogue area nearest to `text` (built on first use); 503 until loaded."""
        engine = self.engine
        with self._areas_lock:
            if self._areas is None:
                self._areas = AreaIndex(engine.embedder, self.catalogue, engine.calibration)
            return self._areas.infer(text)

    def challenge(self, challenge_id: str) -> Challenge:
        """A built-in or posted challenge; 404 when unknown."""
        try:
            return self.book.get(challenge_id)
        except JiebangError:
            raise unknown_challenge(challenge_id) from None

    def all_challenges(self) -> list[Challenge]:
        return self.book.all()

    # -- organisations --------------------------------------------------------------------

    def organisation(self, org_id: str) -> Organisation:
        with self.lock.reading():
            found = self.engine.organisations.get(org_id)
        if found is None:
            raise _unknown_organisation(org_id)
        return found

    def put_organisation(self, organisation: Organisation, *, replace: bool) -> bool:
        """Add (or, with `replace`, update) an organisation; True when it was new.

        The database is written first, then the index is updated and saved. Should the process
        die between the two, the next start-up's reconcile finishes the job.
        """
        engine = self.engine
        # Embedding is the slow part: done before the write lock, so readers wait only for
        # the swap and the save.
        prepared = engine.prepare_organisation(organisation)
        with self.lock.writing():
            exists = organisation.id in engine.organisations
            if exists and not replace:
                raise Conflict(
                    ErrorCode.organisation_exists,
                    f"编号为「{organisation.id}」的机构已存在；要更新它，请加 ?replace=true",
                )
            self.db.put_organisation(organisation)
            point("organisation-after-db")
            engine.upsert_organisation(organisation, prepared)
            self.scores.clear()
            engine.save(self.index_dir)
        return not exists

    def delete_organisation(self, org_id: str) -> Organisation:
        engine = self.engine
        with self.lock.writing():
            found = engine.organisations.get(org_id)
            if found is None:
                raise _unknown_organisation(org_id)
            self.db.delete_organisation(found)
            engine.remove_organisation(org_id)
            self.scores.clear()
            engine.save(self.index_dir)
        return found


def unknown_challenge(challenge_id: str) -> NotFound:
    return NotFound(ErrorCode.challenge_not_found, f"没有编号为「{challenge_id}」的挑战")


def _unknown_organisation(org_id: str) -> NotFound:
    return NotFound(ErrorCode.organisation_not_found, f"没有编号为「{org_id}」的机构")
