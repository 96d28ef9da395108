"""Opening the engine: one behaviour for every face.

A missing index is a clear error, everywhere. The illustrative demo index is built only when
asked for (`jiebang serve --demo`, `JIEBANG_DEMO=true`; `make run` builds it explicitly), so a
mis-set `JIEBANG_INDEX_DIR` never serves fictional organisations as if they were real.
"""

from __future__ import annotations

import logging

from corpus.demo import demo_organisations_path
from corpus.errors import JiebangError
from corpus.loaders import load_organisations
from embed.embedder import Embedder
from matcher.engine import MatchEngine
from matcher.engine_store import INDEX_FILE
from service.components import configured_calibration, engine_options
from service.settings import Settings

log = logging.getLogger("jiebang")


def open_engine(settings: Settings, embedder: Embedder) -> MatchEngine:
    """The saved index; the demo index when `settings.demo` asks and there is none.

    The calibration is the configured one (`configured_calibration`: the file given, the
    version adopted from judgments, the model's own) whatever the index was saved with; the
    index's own is used only when nothing is configured (a model with no calibration), and a
    switch is logged.
    """
    folder = settings.resolved_index_dir
    if (folder / INDEX_FILE).exists():
        engine = MatchEngine.load(folder, embedder)
        configured = configured_calibration(settings)
        if configured is not None and configured != engine.calibration:
            log.info("scoring with the configured calibration (%s), not the one %s was saved "
                     "with", configured.fitted_on[:80], folder / INDEX_FILE)  # fmt: skip
            engine.use_calibration(configured)
        return engine
    if not settings.demo:
        raise JiebangError(
            f"no index at {folder}: build one with `jiebang index build`, or start the service "
            "on the illustrative demo corpus with `jiebang serve --demo`"
        )
    log.info("no index at %s: building the illustrative demo index", folder)
    organisations = load_organisations(demo_organisations_path()).records
    engine = MatchEngine.build(organisations, embedder, progress=False, **engine_options(settings))
    engine.save(folder)
    return engine
