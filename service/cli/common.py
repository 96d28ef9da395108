"""What every CLI command shares: settings, the console, one-line errors, opening the engine."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn

import typer
from rich.console import Console

from corpus.errors import JiebangError
from service.settings import Settings

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
