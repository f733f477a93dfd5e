"""Recordings the gait tests share: the streaming agreement set, whole and with samples lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soleware.gait import load_recording
from soleware.gait.recording import Recording

DATASETS = Path(__file__).parents[2].parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def agreement_recordings() -> list[Path]:
    """Six recordings of one device (a sole-mounted chip, loops and straights) and four of another (an instep
    in a motion-capture room, running)."""
    return (
        sorted(
            p
            for p in DATASETS.glob("*/*.csv")
            if not p.name.endswith(".gt.csv") and "gaitdriven" in p.parent.name
        )[:6]
        + sorted(p for p in DATASETS.glob("pyshoe_vicon/2017-11-27-*.csv") if not p.name.endswith(".gt.csv"))[
            :4
        ]
    )


def samples_lost(rec: Recording, *, gap_s: float, every_s: float) -> Recording:
    """``rec`` without the last ``gap_s`` of every ``every_s`` seconds (a radio dropping out), its first 2 s kept."""
    t = rec.t_s - rec.t_s[0]
    return rec.kept(((t % every_s) < every_s - gap_s) | (t < 2.0))


@pytest.fixture(scope="session")
def with_gaps(agreement_recordings: list[Path]) -> list[tuple[Recording, Recording]]:
    """Each agreement recording, whole and with half a second lost every 20 s."""
    out = []
    for path in agreement_recordings:
        rec = load_recording(path)
        out.append((rec, samples_lost(rec, gap_s=0.5, every_s=20.0)))
    assert all(np.diff(cut.t_s).max() > 0.4 for _, cut in out)
    return out
