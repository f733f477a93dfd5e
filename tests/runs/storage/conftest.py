"""Fixtures of the storage tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from soleware.runs.model import Run, Stride, StrikeType
from soleware.runs.storage import RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade

_STRIKES = (StrikeType.REARFOOT, StrikeType.MIDFOOT, StrikeType.FOREFOOT)


def _noisy_run(seed: int) -> Run:
    """Two feet's strides with unrounded values (finer than the shoe's resolution), some flight times unknown."""
    rng = np.random.default_rng(seed)
    strides = []
    for side, t0 in (("left", 0.0), ("right", 0.37)):
        t = t0
        for _ in range(600):
            d = 0.74 * (1 + 0.02 * rng.standard_normal())
            strides.append(
                Stride(
                    side,
                    t,
                    t + d,
                    2.3 * (1 + 0.03 * rng.standard_normal()),
                    contact_time_s=0.24 + 0.01 * rng.standard_normal(),
                    flight_time_s=None if rng.random() < 0.1 else 0.12 + 0.01 * rng.standard_normal(),
                    strike_angle_deg=8 + 3 * rng.standard_normal(),
                    strike_type=_STRIKES[int(rng.integers(0, 3))],
                    impact_g=3 + 0.5 * rng.standard_normal(),
                )
            )
            t += d
    start = dt.datetime(2026, 1, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=seed)
    return Run.from_strides(strides, start_time=start, time_zone="Europe/Berlin", shoe_serials=("L", "R"))


@pytest.fixture
def noisy_run() -> Callable[[int], Run]:
    return _noisy_run


@pytest.fixture
def store(database_url):
    """A migrated store on the test database (SQLite, or PostgreSQL where the run provides it)."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield RunStore(engine)
    engine.dispose()
