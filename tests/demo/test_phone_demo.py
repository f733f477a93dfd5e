"""``soleware demo --phone``: headless Chromium pairs both virtual shoes through the Web Bluetooth bridge, shows
the run live and uploads it; the run service stores one shoe run."""

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
    [run] = result["runs"]
    assert run["source"] == "shoe"
    # 90 s at 5:00/km is 300 m; the strides before pairing are missing until the browser reads the run log
    assert 150 < run["distance_m"] < 330, run
    assert 150 < run["avg_cadence_spm"] < 200, run
