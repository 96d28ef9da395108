"""What every CLI command shares: settings, the console, one-line errors, opening the engine."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from corpus.errors import JiebangError
from service.components import build_embedder, catalogue
from service.settings import Settings

if TYPE_CHECKING:
    from embed.embedder import Embedder
    from matcher.engine import MatchEngine

# Catalogue ids (ZJ2021-06-03) and user ids (USER-1a2b3c4d): no spaces, no CJK.
_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*-[A-Za-z0-9_.-]+")

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


def embedder(config: Settings) -> Embedder:
    """The configured embedding model, with a spinner while it loads."""
    with err_console.status("loading the embedding model…"):
        return build_embedder(config)


def open_engine(config: Settings) -> MatchEngine:
    """The engine saved by `jiebang index build`; a clear error when there is none."""
    from matcher.engine import INDEX_FILE, MatchEngine

    if not (config.resolved_index_dir / INDEX_FILE).exists():
        raise JiebangError(
            f"no index at {config.resolved_index_dir}; build one with `jiebang index build`"
        )
    return MatchEngine.load(config.resolved_index_dir, embedder(config))


def resolve_challenge(config: Settings, challenge: str) -> tuple[str, str]:
    """A challenge id from the catalogue, or free text: returns (label, query text)."""
    if challenge.strip() and _looks_like_id(challenge):
        found = catalogue(config).get(challenge.strip())
        return found.id, found.query_text
    if not challenge.strip():
        raise JiebangError("the challenge text is empty")
    return "text", challenge.strip()


def _looks_like_id(value: str) -> bool:
    return bool(_ID_PATTERN.fullmatch(value.strip()))
