"""``soleware demo`` end to end: real processes, real Bluetooth over virtual controllers, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest


def demo_command(*args: str) -> list[str]:
    """``soleware demo`` with ``args``, never opening a browser or drawing the live view."""
    return [sys.executable, "-m", "soleware.cli", "demo", *args]


@pytest.mark.slow
def test_demo_stores_every_stride_once_and_awards_records(tmp_path):
    """Two runs, every stride stored once, records and achievements; the runs are the ones ``--seed`` simulates,
    and ``--keep`` leaves the service answering afterwards until Ctrl-C stops every process (headless:
    ``--no-browser --no-view``)."""
    import re
    import signal

    import httpx

    from soleware.shoe.sim import simulate

    plan = "30s walk, 600m@4:30/km"
    report = tmp_path / "report.json"
    cmd = demo_command(
        "--plan",
        plan,
        "--speedup",
        "20",
        "--runs",
        "2",
        "--seed",
        "5",
        "--keep",
        "--no-browser",
        "--no-view",
        "--port",
        "0",
        "--report",
        str(report),
        "--workdir",
        str(tmp_path / "demo"),
    )
    log = tmp_path / "demo.out"  # a file, not a pipe: nobody reads a pipe while the demo runs
    demo = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 600
        while "Still serving" not in log.read_text():
            assert time.monotonic() < deadline and demo.poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
        url = re.search(r"Run service\s+(http://\S+)", log.read_text()).group(1)
        assert httpx.get(url + "/api/health").status_code == 200, "--keep: still serving after the runs"
        demo.send_signal(signal.SIGINT)
        demo.wait(30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
    out = log.read_text()
    assert demo.returncode == 0, out[-3000:]
    assert "stopped; every process is down." in out
    r = json.loads(report.read_text())
    assert len(r["runs"]) == 2
    for run in r["runs"]:
        assert abs(run["error_pct"]) <= 2.0, run
        assert run["strides"] == run["shoe_strides"], "every stride the shoes sent is stored, once"
    gateway_log = (tmp_path / "demo" / "gateway.log").read_text()
    assert gateway_log.count(" as run ") >= 2 and "SW-L-0001: connected" in gateway_log
    assert {x["distance_m"] for x in r["records"]} >= {400.0}
    assert "first_run" in r["earned"]
    assert "Achievements earned" in out
    for k, run in enumerate(r["runs"]):
        truth = simulate(plan, seed=5 + k)["left"].ground_truth.distance_m
        assert run["true_distance_m"] == pytest.approx(float(truth))
    left_over = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True)
    assert left_over.stdout.strip() == "", "no shoe process (they name the work dir) is left behind"


@pytest.mark.slow
@pytest.mark.browser
def test_demo_live_page_updates_during_the_run(tmp_path, browser):
    """A runner watching the live page in Chromium sees the numbers move while the shoes run."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cmd = demo_command(
        "--plan",
        "20s walk, 800m@5:00/km",
        "--speedup",
        "8",
        "--port",
        str(port),
        "--password",
        "watching the run",
        "--workdir",
        str(tmp_path / "demo"),
    )
    log = tmp_path / "demo.out"  # a file, not a pipe: nobody reads a pipe while the demo runs
    demo = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and demo.poll() is None, "the demo's server did not start"
            time.sleep(0.2)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{url}/signin?email=demo@soleware.example")
        page.fill("input[type=password]", "watching the run")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{url}/")
        seen = []
        while demo.poll() is None and time.monotonic() < deadline + 120:
            value = page.inner_text("#distance")
            if value not in ("–", "") and (not seen or seen[-1] != value):
                seen.append(value)
            time.sleep(0.3)
        demo.wait(30)
        assert demo.returncode == 0, log.read_text()[-3000:]
        assert len(seen) >= 5, f"the live distance moved only through {seen}"
        assert float(seen[-1]) > float(seen[0])
    finally:
        if demo.poll() is None:
            demo.terminate()
            demo.wait(20)


@pytest.mark.slow
def test_ctrl_c_stops_every_process(tmp_path):
    import signal

    workdir = tmp_path / "demo"
    cmd = demo_command("--plan", "10min@5:00/km", "--speedup", "5", "--port", "0", "--workdir", str(workdir))
    log = tmp_path / "demo.out"
    demo = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    while not (workdir / "shoe-right-1.log").exists():
        assert time.monotonic() < deadline and demo.poll() is None, "the shoes did not start"
        time.sleep(0.2)

    def children() -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(demo.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def connected() -> bool:  # Ctrl-C mid-run: once the gateway has both shoes
        gateway_log = workdir / "gateway.log"
        text = gateway_log.read_text() if gateway_log.exists() else ""
        return "SW-L-0001: connected" in text and "SW-R-0001: connected" in text

    while not connected() and time.monotonic() < deadline and demo.poll() is None:
        time.sleep(0.2)
    assert connected(), f"the gateway did not connect both shoes:\n{log.read_text()[-3000:]}"
    up = children()
    assert len(up) >= 4, "server, radio and two shoes are up"
    demo.send_signal(signal.SIGINT)
    try:
        demo.wait(30)
    except subprocess.TimeoutExpired:
        demo.kill()
        pytest.fail(f"the demo did not stop within 30 s of Ctrl-C; its output:\n{log.read_text()[-4000:]}")
    assert "stopped; every process is down." in log.read_text()

    def alive() -> list[int]:  # an exited child lingers until init reaps it: wait for that, not for a time
        left = []
        for pid in up:
            try:
                os.kill(pid, 0)
                left.append(pid)
            except ProcessLookupError:
                pass
        return left

    gone_by = time.monotonic() + 10
    while alive() and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert alive() == [], f"processes left behind: {alive()}"


@pytest.mark.browser
def test_demo_with_the_phone_as_the_gateway(tmp_path):
    """``soleware demo --phone``: headless Chromium (``--no-browser``) pairs both shoes, shows the run and uploads
    it, then syncs the shoes' logs; the command prints the stored run against the simulator's truth, writes its
    report and exits 0."""
    done = subprocess.run(
        demo_command(
            "--phone",
            "--no-browser",
            "--plan",
            "60s@5:00/km",
            "--speedup",
            "3",
            "--port",
            "0",
            "--workdir",
            str(tmp_path / "demo"),
            "--report",
            str(tmp_path / "report.json"),
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the logged run replaced the live one" in done.stdout, done.stdout[-3000:]
    run = json.loads((tmp_path / "report.json").read_text())["run"]
    assert run["strides"] == run["true_strides"] and abs(run["error_pct"]) < 3.0, run
    assert f"{run['distance_m'] / 1000:.2f} km (simulator truth" in done.stdout, done.stdout[-3000:]


def test_the_phone_demo_runs_one_run():
    done = subprocess.run(demo_command("--phone", "--runs", "2"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "the phone demo runs one run" in done.stderr, done.stderr
