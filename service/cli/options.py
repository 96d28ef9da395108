"""Typer options generated from a pydantic request model, so help text is written once."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import annotated_types
import typer
from pydantic import BaseModel, ValidationError


def request_options(name: str, model: type[BaseModel]) -> Callable[[Callable], Callable]:
    """Replace the command parameter `name` (a `model`) by one option per field of the model,
    in its place.

    A bool field becomes `--field/--no-field`; `ge`/`le` bounds become typer's `min`/`max`;
    what else the model refuses (e.g. a string's length) is a bad parameter naming the flag.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(command, include_extras=True)
        signature = inspect.signature(command)
        # All keyword-only (typer passes keywords), so the options can stand where `name` stood.
        params = [
            p.replace(
                annotation=hints.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY
            )
            for p in signature.parameters.values()
        ]
        at = [p.name for p in params].index(name)
        generated = [
            inspect.Parameter(
                field,
                inspect.Parameter.KEYWORD_ONLY,
                default=_option(field, info),
                annotation=info.annotation,
            )
            for field, info in model.model_fields.items()
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {field: kwargs.pop(field) for field in model.model_fields}
            try:
                request = model(**values)
            except ValidationError as error:
                first = error.errors()[0]
                flag = "--" + str(first["loc"][0]).replace("_", "-")
                raise typer.BadParameter(first["msg"], param_hint=flag) from None
            return command(**kwargs, **{name: request})

        # typer must read the generated signature, with its annotations already resolved (the
        # command's string annotations would be evaluated in this module's namespace).
        del wrapper.__wrapped__
        options = params[:at] + generated + params[at + 1 :]
        wrapper.__signature__ = signature.replace(parameters=options)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in options}
        return wrapper

    return decorate


def _option(field: str, info: Any) -> Any:
    flag = "--" + field.replace("_", "-")
    if info.annotation is bool:
        negative = "--no-" + field.replace("_", "-")
        return typer.Option(info.default, f"{flag}/{negative}", help=info.description)
    low: int | float | None = None
    high: int | float | None = None
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = _bound(field, rule.ge)
        if isinstance(rule, annotated_types.Le):
            high = _bound(field, rule.le)
    return typer.Option(info.default, flag, help=info.description, min=low, max=high)


def _bound(field: str, value: object) -> int | float:
    """A numeric bound of a field, as the option's `min`/`max`."""
    if not isinstance(value, int | float):
        raise TypeError(f"{field}: a command-line bound must be a number, not {value!r}")
    return value
