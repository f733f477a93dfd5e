"""``python -m soleware.cli`` — the same as the ``soleware`` command."""

from soleware.cli import app

app()
