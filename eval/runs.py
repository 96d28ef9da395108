"""Run files: one ranking per query as plain JSON ``{qid: {candidate id: score}}``.

Candidates are groups (organisations) when the corpus is grouped, otherwise document ids.
Plain JSON keeps runs comparable side by side, whatever produced them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from corpus.errors import DataError
from corpus.files import atomic_write

RunScores = dict[str, dict[str, float]]
"""qid → {candidate id → score}; higher is better."""


def save_run(run: RunScores, path: str | Path) -> Path:
    """Write `run` as JSON atomically and return the path."""
    return atomic_write(path, json.dumps(run, ensure_ascii=False))


def load_run(path: str | Path) -> RunScores:
    """Read a run file, checking its shape; any problem is a `DataError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise DataError(path, None, "not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise DataError(path, error.lineno, f"invalid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise DataError(path, None, "a run must be a JSON object {qid: {id: score}}")
    run: RunScores = {}
    for qid, ranking in data.items():
        if not isinstance(ranking, dict):
            raise DataError(path, None, f"query {qid!r}: expected an object {{id: score}}")
        scores = {}
        for candidate, score in ranking.items():
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise DataError(path, None, f"query {qid!r}, {candidate!r}: score is not a number")
            if not math.isfinite(score):
                raise DataError(path, None, f"query {qid!r}, {candidate!r}: score is not finite")
            scores[candidate] = float(score)
        run[qid] = scores
    return run
