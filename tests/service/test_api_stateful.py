"""Stateful fuzzing over the OpenAPI document: chains of create → read → update → delete.

Schemathesis infers the links between operations (response ids, path parameters, the
Location headers POST answers carry) and drives random sequences of calls against a real
server. Every response must conform to the schema, and none may be a 5xx. A bounded run here;
`benchmarks/fuzz_api.py` runs the long one.
"""

from __future__ import annotations

import contextlib
import os

import pytest

pytestmark = pytest.mark.slow

STEPS = int(os.environ.get("JIEBANG_FUZZ_CASES", "300"))
# Reproducible here; the long run (benchmarks/fuzz_api.py) passes its own seeds instead.
SEEDED = "JIEBANG_FUZZ_SEED" in os.environ


def run_stateful(base_url: str, api_key: str, cases: int) -> tuple[int, list[str]]:
    """Run about `cases` stateful calls; returns how many were made and every failed check.

    Failures are collected, not raised: Hypothesis would replay them to shrink, and a replay
    against a server that kept the earlier examples' data is not a replay (it ends in
    `FlakyStrategyDefinition`, which would hide the failure). For the same reason a run may
    stop early with that error, after the calls it made; the caller checks how many.
    """
    import schemathesis
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.errors import FlakyStrategyDefinition
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # Expensive operations (a roadmap, uploads that embed or rank every item) are left to the
    # stateless fuzz test (tests/service/test_api_fuzz.py).
    schema = schema.exclude(path_regex="^/(roadmap|patents/match|match/file|challenges/import)")
    calls = {"n": 0}
    failures: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            calls["n"] += 1
            return {"headers": {"X-API-Key": api_key}, "timeout": 120}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Control characters and unpaired surrogates are refused with a 422 on purpose
            # (JSON Schema cannot say so), so "schema-valid data accepted" does not apply.
            try:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=[positive_data_acceptance],
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except (Failure, FailureGroup) as failure:
                failures.append(f"{case.method} {case.path} → {response.status_code}: "
                                f"{failure}")  # fmt: skip

    steps = 6
    # Stopped early (see above): the calls made so far were all checked.
    with contextlib.suppress(FlakyStrategyDefinition):
        Workflow.run(
            settings=settings(
                max_examples=max(cases // steps, 1),
                stateful_step_count=steps,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=not SEEDED,
            )
        )
    return calls["n"], failures


def test_stateful_sequences_never_fail_or_violate_the_schema(make_server, api_key: str) -> None:
    server = make_server().start()
    made, failures = run_stateful(server.base_url, api_key, STEPS)
    assert not failures, "\n".join(failures[:20])
    # A seeded run of the long benchmark may stop early; the benchmark counts calls over runs.
    assert made >= (1 if SEEDED else STEPS // 2), f"only {made} calls were made"
    print(f"stateful: {made} calls, no failure")
