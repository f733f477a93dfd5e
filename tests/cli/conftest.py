"""A short simulated run, made once with ``soleware shoe simulate``, for the commands that read recordings."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from soleware.cli import app

#: Long enough for a run to start and end on the shoe (walk, run, walk), short enough to replay in a second or two.
SHORT_PLAN = "5s walk, 30s@5:00/km, 5s walk"


@pytest.fixture(scope="session")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The left foot's recording (CSV with its JSON sidecar) of `SHORT_PLAN`."""
    out = tmp_path_factory.mktemp("short_run") / "run.csv"
    res = CliRunner().invoke(
        app, ["shoe", "simulate", "--plan", SHORT_PLAN, "--side", "left", "--seed", "7", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out
