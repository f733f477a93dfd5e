"""``soleware shoe log …``: inspect and check a shoe's flash run log image."""

from __future__ import annotations

import typer

from soleware.cli.shoe import shoe_app

log_app = typer.Typer(help="The shoe's flash run log: dump and check an image.", no_args_is_help=True)
shoe_app.add_typer(log_app, name="log")
