"""``soleware analyze`` and ``soleware eval``: the gait engine on recordings."""

from __future__ import annotations

from soleware.cli._app import app


@app.command()
def analyze() -> None:
    """Analyse a recording (placeholder until the engine lands)."""
