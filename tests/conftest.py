"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL) for storage and API tests."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from soleware.runs.model import Route, Run, Stride, StrikeType

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server started for this test session (or ``SOLEWARE_TEST_POSTGRES_URL``)."""
    url = os.environ.get("SOLEWARE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    subprocess.run(["bash", str(ROOT / "scripts/postgres"), "install"], check=True)
    d = tmp_path_factory.mktemp("pg")
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/postgres"), "start", str(d)], check=True, capture_output=True, text=True
    )
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/postgres"), "stop", str(d)], check=False)


def _fresh_postgres_db(server_url: str) -> str:
    """A new empty database on the test server, so tests do not see each other's rows."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each engine we support (migrate it before use)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'soleware.db'}"
    return _fresh_postgres_db(request.getfixturevalue("postgres_server"))


def _make_run(
    *,
    start: str | dt.datetime = "2026-03-01T07:00:00+00:00",
    distance_m: float = 5000.0,
    speed_mps: float = 3.0,
    stride_m: float = 2.4,
    time_zone: str = "UTC",
    serials: tuple[str, ...] = ("SW-L-0001", "SW-R-0001"),
    title: str = "",
) -> Run:
    """A steady run of both feet: strides of ``stride_m`` at ``speed_mps`` until ``distance_m``."""
    start_time = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
    n = max(1, math.ceil(distance_m / stride_m))
    period = stride_m / speed_mps
    strides = [
        Stride(
            side,
            i * period + offset,
            (i + 1) * period + offset,
            stride_m,
            contact_time_s=0.25 * period,
            strike_type=StrikeType.MIDFOOT,
            strike_angle_deg=5.0,
        )
        for side, offset in (("left", 0.0), ("right", period / 2))
        for i in range(n)
    ]
    return Run.from_strides(
        strides, start_time=start_time, time_zone=time_zone, shoe_serials=serials, title=title
    )


@pytest.fixture
def make_run() -> Callable[..., Run]:
    return _make_run


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium, installed by scripts/browser when missing."""
    subprocess.run(["bash", str(ROOT / "scripts" / "browser")], check=True)
    assert os.access(CHROMIUM, os.X_OK), CHROMIUM
    return CHROMIUM


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop: never across async test modules
def browser(chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--disable-gpu", "--font-render-hinting=none"])
        try:
            yield b
        finally:
            b.close()


def _make_route(
    elapsed_s: float = 1800.0, *, speed_mps: float = 3.0, seed: int = 0, altitude: bool = True
) -> Route:
    """The phone's fixes once a second on a 400 m-radius loop in Shanghai at ``speed_mps``: accuracies of 3-15 m,
    every 50th fix a poor one (60-500 m) off the loop by its accuracy; times jittered by up to 0.2 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, elapsed_s, 1.0) + rng.uniform(0, 0.2, int(np.ceil(elapsed_s)))
    angle = speed_mps * t / 400.0
    north_m, east_m = 400.0 * np.sin(angle), 400.0 * (1 - np.cos(angle))
    accuracy = rng.uniform(3, 15, len(t))
    poor = np.arange(len(t)) % 50 == 25
    accuracy[poor] = rng.uniform(60, 500, poor.sum())
    north_m[poor] += accuracy[poor]
    lat = 31.2304 + north_m / 111_195.0
    lon = 121.4737 + east_m / (111_195.0 * np.cos(np.radians(31.2304)))
    alt = 8.0 + 2.0 * np.sin(t / 300.0) if altitude else None
    return Route(t, lat, lon, accuracy, alt)


@pytest.fixture(scope="session")
def make_route() -> Callable[..., Route]:
    return _make_route
