"""Fuzz every operation from the app's own OpenAPI document: no input may cause a 500."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.slow

# A bounded run of about 300 cases here; JIEBANG_FUZZ_CASES scales the budget
# (benchmarks/fuzz_api.py runs it at 2,000 and more).
SCALE = int(os.environ.get("JIEBANG_FUZZ_CASES", "300")) / 1000
MIN_CASES = int(1000 * SCALE)
# Expensive operations (a whole roadmap, a job per valid upload) get fewer cases.
CASES = {"GET /roadmap": int(12 * SCALE), "POST /patents/match": int(30 * SCALE)}
DEFAULT_CASES = int(70 * SCALE)


def test_no_500_from_openapi_fuzzing(make_server, api_key: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    server = make_server().start()
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    cases = 0
    server_errors: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        budget = CASES.get(label, DEFAULT_CASES)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=budget // 2,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
            )
            def run(case) -> None:
                nonlocal cases
                headers = {"X-API-Key": api_key}
                response = case.call(base_url=server.base_url, headers=headers, timeout=120)
                cases += 1
                if response.status_code >= 500:
                    server_errors.append(
                        f"{case.method} {case.path} → {response.status_code} "
                        f"{response.content[:200]!r}\n"
                        f"  {case.as_curl_command(headers=headers)}"
                    )
                else:
                    assert b"Traceback" not in response.content

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (e.g. no parameters)
                assert mode is GenerationMode.NEGATIVE, label
    assert not server_errors, "\n".join(server_errors[:20])
    assert cases >= MIN_CASES, f"only {cases} cases were generated"
    print(f"{cases} fuzzed requests, no 500")
