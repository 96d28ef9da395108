"""The long fuzzing run (issue 13): stateless and stateful schemathesis against a real server.

    .venv/bin/python benchmarks/fuzz_api.py [--cases 2000]

Starts `jiebang serve --demo` with private database, index and jobs folders, then runs the
suite's two fuzz tests with a bigger budget (`JIEBANG_FUZZ_CASES`): every operation of the
OpenAPI document with positive and negative inputs, and stateful create → read → delete chains.
Prints the counts of 5xx responses and schema violations (both must be 0).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    env = {**os.environ, "JIEBANG_FUZZ_CASES": str(args.cases)}
    tests = ["tests/service/test_api_fuzz.py", "tests/service/test_api_stateful.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *tests],
        cwd=REPO,
        env=env,
    )
    verdict = "passed" if result.returncode == 0 else "FAILED"
    print(f"fuzzing with {args.cases} cases per test: {verdict}")
    raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()
