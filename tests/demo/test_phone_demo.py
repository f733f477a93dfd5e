"""``soleware demo --phone``: headless Chromium pairs both virtual shoes through the Web Bluetooth bridge, shows
the run live and uploads it, then syncs the shoes' run logs; the run service keeps the logged run alone."""

from __future__ import annotations

import pytest
from rich.console import Console

from soleware.demo import free_port
from soleware.demo._phone import run_phone_demo

pytestmark = pytest.mark.browser


async def test_the_phone_demo_pairs_runs_live_and_uploads(tmp_path):
    result = await run_phone_demo(
        plan="90s@5:00/km",
        speedup=3.0,
        headless=True,
        port=free_port(),
        workdir=tmp_path,
        seed=2,
        password="demo-test-password",
        console=Console(quiet=True),
    )
    shown = {side: int(n) for side, n in result["shown"].items()}
    assert shown["left"] > 40 and shown["right"] > 40, shown
    [stored] = result["runs"]
    run = result["run"]
    assert stored["id"] == run["run_id"] and run["source"] == "shoe"
    # the strides run before the phone paired were missing live; the shoes' logs bring every one of them
    assert run["shown_live"]["left"] < run["true_strides"]["left"], run
    assert run["strides"] == run["shoe_strides"] == run["true_strides"], run
    assert abs(run["error_pct"]) < 3.0, run  # 90 s at 5:00/km: 300 m
    assert 150 < run["avg_cadence_spm"] < 200, run
