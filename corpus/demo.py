"""The illustrative organisation corpus shipped with jiebang.

Every organisation in it is FICTIONAL: written for illustration by the jiebang authors, each
name ends in "（示例）" and each record has `illustrative=True`. Any resemblance to real bodies
is coincidental. The data lets the engine, the CLI and the web page be tried without real
data; it is never evidence about real organisations. `corpus/data/README.md` describes the fields.
"""

from __future__ import annotations

from pathlib import Path

DEMO_ORGANISATIONS_FILE = "demo_organisations.jsonl"


def demo_organisations_path() -> Path:
    """Path of the fictional demo organisations (JSONL, one `Organisation` per line)."""
    return Path(__file__).parent / "data" / DEMO_ORGANISATIONS_FILE
