"""`jiebang serve`: run the HTTP API and web page with uvicorn."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Annotated

import typer

from service.cli.common import console, settings, user_errors

KEEP_ALIVE_S = 75


@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="With no index yet, build and serve the illustrative demo one.")
    ] = False,
) -> None:
    """Serve the API and the web page; the model and index load once, at start-up."""
    import uvicorn

    from service.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    config = settings()
    config.demo = config.demo or demo
    if not config.api_key:
        # Writes always need a key: without a configured one, make one for this run only, in a
        # file only this user can read (not on the console, where logs would keep it).
        config.api_key = secrets.token_urlsafe(16)
        key_file = config.home / "api-key"
        config.home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(config.api_key + "\n")
        console.print(f"JIEBANG_API_KEY is not set; this run's key is in {key_file} (mode 0600)")
    app = create_app(config)
    console.print(
        f"jiebang serving at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)"
    )
    # Keep idle connections longer than clients' pools do (httpx: 5 s), so a client never sends
    # on a connection the server is closing at that moment (seen as ReadError under load).
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_S)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
