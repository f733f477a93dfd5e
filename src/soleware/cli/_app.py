"""The root ``soleware`` Typer application; command modules register on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="soleware",
    help="Soleware: smart running shoes, from the sole's IMU to your history of runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Soleware: smart running shoes, from the sole's IMU to your history of runs."""
