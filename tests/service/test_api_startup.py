"""What a server does before it reports ready."""

from __future__ import annotations

from service.settings import Settings


def test_the_server_readies_its_query_encoder_before_it_reports_ready(make_server) -> None:
    """A first query of each length costs OpenVINO 2–3× the next (BENCHMARKS.md): the server
    pays that once, while loading, so that no user does."""
    default = str(Settings.model_fields["warm_tokens"].default)
    server = make_server(cli=True, JIEBANG_WARM_TOKENS=default).start()  # `jiebang serve`: INFO
    log = server.log_tail(chars=100_000)
    assert "encoder readied for queries in" in log, log
    assert log.index("encoder readied for queries in") < log.index("index ready"), log
    with server.client() as client:
        assert client.post("/match", json={"text": "光刻胶"}).status_code == 200
