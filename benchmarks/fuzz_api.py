"""The long fuzzing run (issue 13): stateless and stateful schemathesis against a real server.

    .venv/bin/python benchmarks/fuzz_api.py [--cases 2000]

Runs the suite's two fuzz tests with a bigger budget, each against its own `jiebang serve`
(private database, index and jobs folders):
- stateless: every operation of the OpenAPI document with positive and negative inputs,
  `--cases` in all (`JIEBANG_FUZZ_CASES`), in one run;
- stateful: create → read → update → delete chains in runs of `STATEFUL_RUN` steps, each with
  its own seed and a fresh server, until `--cases` calls were made. The server keeps what
  earlier examples created, so the same generated choices can meet different responses later
  (an id taken → 409 instead of 201); Hypothesis then stops the run with
  `FlakyStrategyDefinition` (not a server fault), so a run may make fewer calls than asked.
Both fail on any 5xx, traceback or schema violation; prints a verdict and the calls per run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATELESS = "tests/service/test_api_fuzz.py"
STATEFUL = "tests/service/test_api_stateful.py"
STATEFUL_RUN = 300


def run_tests(test: str, cases: int, seed: int | None = None) -> tuple[bool, int]:
    """(passed, stateful calls made) of one pytest run of `test`."""
    env = {**os.environ, "JIEBANG_FUZZ_CASES": str(cases)}
    seeding = []
    if seed is not None:
        env["JIEBANG_FUZZ_SEED"] = str(seed)
        seeding = [f"--hypothesis-seed={seed}"]
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *seeding]
    result = subprocess.run([*command, test], cwd=REPO, env=env, capture_output=True, text=True)
    passed = result.returncode == 0
    if not passed:
        print(result.stdout[-20_000:], result.stderr[-5_000:], sep="\n")
    made = re.search(r"stateful: (\d+) calls", result.stdout)
    label = f"{test} with {cases} cases" + ("" if seed is None else f", seed {seed}")
    calls = int(made.group(1)) if made else 0
    print(f"{label}: {'passed' if passed else 'FAILED'}" + (f", {calls} calls" if made else ""))
    return passed, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    results = [run_tests(STATELESS, args.cases)[0]]
    seed, stateful_calls = 0, 0
    while stateful_calls < args.cases and all(results):
        seed += 1
        passed, calls = run_tests(STATEFUL, STATEFUL_RUN, seed)
        results.append(passed)
        stateful_calls += calls
    print(f"fuzzing: {sum(results)} of {len(results)} runs passed; "
          f"{stateful_calls} stateful calls in {seed} runs")  # fmt: skip
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
