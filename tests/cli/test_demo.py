"""``soleware demo`` end to end: real processes, real Bluetooth over virtual controllers, real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_stores_every_stride_once_and_awards_records(tmp_path):
    report = tmp_path / "report.json"
    cmd = [
        sys.executable,
        "-m",
        "soleware.cli",
        "demo",
        "--plan",
        "30s walk, 600m@4:30/km",
        "--speedup",
        "20",
        "--runs",
        "2",
        "--port",
        "0",
        "--no-browser",
        "--no-view",
        "--report",
        str(report),
        "--workdir",
        str(tmp_path / "demo"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(report.read_text())
    assert len(r["runs"]) == 2
    for run in r["runs"]:
        assert abs(run["error_pct"]) <= 2.0, run
        assert run["strides"] == run["shoe_strides"], "every stride the shoes sent is stored, once"
    assert {x["distance_m"] for x in r["records"]} >= {400.0}
    assert "first_run" in r["earned"]
    assert "Achievements earned" in done.stdout
    left_over = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True)
    assert left_over.stdout.strip() == "", "no process is left behind"
