"""``soleware shoe …``: the virtual shoe (simulate, replay, serve) and its flash run log."""

from __future__ import annotations

import typer

from soleware.cli._app import app

shoe_app = typer.Typer(help="The virtual shoe: simulator, firmware replay, run log.", no_args_is_help=True)
app.add_typer(shoe_app, name="shoe")
