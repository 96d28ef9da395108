"""What every CLI command shares: settings, the console, one-line errors, opening the engine."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from corpus.errors import JiebangError
from service.components import build_embedder, catalogue, stored_challenges
from service.settings import Settings
from service.usecases.challenges import ChallengeBook
from service.usecases.scale_out import ExecutionEngine, use_ray

if TYPE_CHECKING:
    from embed.embedder import Embedder
    from matcher.engine import MatchEngine

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    """The settings for this invocation (environment variables `JIEBANG_*`)."""
    return Settings()


def fail(message: str) -> NoReturn:
    """Print one red line and exit 1: the only way a command reports a user error."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn `JiebangError` (and unreadable files) into a one-line error and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except JiebangError as error:
            fail(str(error))
        except (OSError, UnicodeDecodeError) as error:
            fail(f"{type(error).__name__}: {error}")

    return wrapper


ENGINE_HELP = "Encode here (local) or on a Ray cluster (ray; pip install -e '.[ray]')."
ADDRESS_HELP = (
    "Ray cluster (auto, ray://HOST:10001) [default: JIEBANG_RAY_ADDRESS, else a local one]."
)
WORKERS_HELP = "Ray encoding actors, one CPU each [default: JIEBANG_RAY_WORKERS]."


def embedder(
    config: Settings,
    engine: ExecutionEngine = ExecutionEngine.local,
    address: str | None = None,
    workers: int | None = None,
) -> Embedder:
    """The configured embedding model, with a spinner while it loads; `ray` distributes it."""
    with err_console.status("loading the embedding model…"):
        model = build_embedder(config)
    if engine is ExecutionEngine.ray:
        with err_console.status("starting the Ray encoding actors…"):
            use_ray(model, config, address or config.ray_address, workers or config.ray_workers)
    return model


def saved_engine(config: Settings) -> MatchEngine:
    """The saved index with the configured model (`service.usecases.engine.open_engine`: a
    clear error when there is none)."""
    from service.usecases.engine import open_engine

    return open_engine(config, embedder(config))


def challenge_book(config: Settings) -> ChallengeBook:
    """The catalogue, your challenges file and the challenges posted through the API."""
    return ChallengeBook(catalogue(config), *stored_challenges(config))
