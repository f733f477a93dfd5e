"""``soleware radio``, ``soleware shoe serve`` and ``soleware gateway``: one shoe's run, over virtual Bluetooth, to
the run service, each command its own process (as README shows them)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from soleware.cli import app

CLI = [sys.executable, "-m", "soleware.cli"]


def _stop(p: subprocess.Popen) -> int:
    """SIGTERM, as Ctrl-C would; the commands cancel their work and exit 0."""
    if p.poll() is None:
        p.terminate()
    try:
        return p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(5)


def test_shoe_to_gateway_to_service(service, tmp_path: Path) -> None:
    """A simulated shoe streams a short run to the gateway, which uploads it; the service stores every stride the
    shoe sent, in the runner's time zone; the shoe's flash log has the run, acknowledged."""
    env = {"SOLEWARE_PASSWORD": "gateway test"}
    res = CliRunner().invoke(
        app, ["user", "create", "g@example.com", "--database-url", service.database_url], env=env
    )
    assert res.exit_code == 0, res.output
    radio = subprocess.Popen([*CLI, "radio", "0", "0"], stdout=subprocess.PIPE, text=True)
    shoe = None
    try:
        transports = [radio.stdout.readline().strip() for _ in range(2)]  # type: ignore[union-attr]
        assert all(t.startswith("tcp-client:127.0.0.1:") for t in transports), transports
        stats, image = tmp_path / "shoe.json", tmp_path / "left.img"
        shoe_cmd = [*CLI, "shoe", "serve", "--side", "left", "--transport", transports[0]]
        shoe_cmd += ["--plan", "5s walk, 30s@5:00/km, 5s walk", "--seed", "3", "--speedup", "15"]
        shoe_cmd += ["--serial", "SW-L-0042", "--log", str(image), "--start", "2026-05-01T06:30:00+00:00"]
        shoe_cmd += ["--stats", str(stats), "--serve-after-s", "120"]
        shoe_log = tmp_path / "shoe.log"
        with shoe_log.open("w") as out:
            shoe = subprocess.Popen(shoe_cmd, stdout=out, stderr=subprocess.STDOUT)
        gateway = [*CLI, "gateway", "--transport", transports[1], "--server", service.url]
        gateway += ["--email", "g@example.com", "--password", "gateway test", "--shoes", "1"]
        gateway += ["--state-dir", str(tmp_path / "gateway"), "--time-zone", "Asia/Shanghai"]
        gateway += ["--view", "--exit-after-upload", "1"]
        done = subprocess.run(gateway, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + shoe_log.read_text()[-2000:]
        assert "stored" in done.stdout and "SW-L-0042" in done.stdout  # the live view named the shoe
        deadline = time.monotonic() + 30
        while not stats.exists():
            assert time.monotonic() < deadline and shoe.poll() is None, shoe_log.read_text()[-2000:]
            time.sleep(0.2)
        sent = json.loads(stats.read_text())
    finally:
        if shoe is not None:
            assert _stop(shoe) == 0, shoe_log.read_text()[-2000:]
        assert _stop(radio) == 0
    with contextlib.closing(sqlite3.connect(service.db)) as db:
        rows = db.execute(
            "SELECT r.time_zone, r.start_time FROM runs r JOIN runners u ON r.runner_id = u.id WHERE u.email = ?",
            ("g@example.com",),
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == "Asia/Shanghai"
    assert str(rows[0][1]).startswith("2026-05-01")
    assert sent["serial"] == "SW-L-0042" and sent["strides_sent"] > 10
    assert len(sent["runs"]) == 1 and sent["runs"][0]["stride_count"] == sent["strides_sent"]
    check = CliRunner().invoke(app, ["shoe", "log", "check", str(image)])
    assert check.exit_code == 0, check.output
    assert "1 runs (0 unsynced)" in check.output, "the gateway acknowledged the run to the shoe"


def test_shoe_serve_refuses_bad_input(tmp_path: Path) -> None:
    """``--side`` must be a foot and ``--recording`` a readable recording, before any radio is touched."""
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing\n")
    cli = CliRunner()
    res = cli.invoke(app, ["shoe", "serve", "--side", "middle", "--transport", "tcp-client:127.0.0.1:9"])
    assert res.exit_code == 2 and "left or right" in res.output
    res = cli.invoke(
        app,
        ["shoe", "serve", "--side", "left", "--transport", "tcp-client:127.0.0.1:9", "--recording", str(bad)],
    )
    assert res.exit_code == 2 and "bad.csv" in res.output


POD_SCRIPT = Path(__file__).resolve().parents[1] / "link" / "third_party_pod.py"


def test_gateway_records_a_running_pod_and_uploads_it_when_stopped(service, tmp_path: Path) -> None:
    """``soleware gateway --pod any``: a third-party pod (every optional field, written for the tests) is recorded
    and its run stored when the gateway is stopped, labelled with the pod, as a pod run."""
    env = {"SOLEWARE_PASSWORD": "pod test"}
    res = CliRunner().invoke(
        app, ["user", "create", "p@example.com", "--database-url", service.database_url], env=env
    )
    assert res.exit_code == 0, res.output
    radio = subprocess.Popen([*CLI, "radio", "0", "0"], stdout=subprocess.PIPE, text=True)
    pod = gateway = None
    try:
        transports = [radio.stdout.readline().strip() for _ in range(2)]  # type: ignore[union-attr]
        pod = subprocess.Popen(
            [sys.executable, str(POD_SCRIPT), transports[0], "--full", "--count", "20"],
            stdout=subprocess.PIPE,
            text=True,
        )
        cmd = [*CLI, "gateway", "--transport", transports[1], "--server", service.url, "--pod", "any"]
        cmd += ["--email", "p@example.com", "--password", "pod test", "--no-view"]
        cmd += ["--state-dir", str(tmp_path / "gateway"), "--time-zone", "Europe/Paris"]
        gateway = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert pod.stdout is not None and pod.stdout.readline().startswith("sent 21"), "the pod ran"
        time.sleep(0.5)  # the last notification reaches the gateway
        assert _stop(gateway) == 0
        out, err = gateway.communicate()
        assert "stored" in out, out + err
        assert "notification 030003 skipped" in err, err  # the short packet, logged and passed over
    finally:
        for p in (gateway, pod):
            if p is not None:
                _stop(p)
        assert _stop(radio) == 0
    with contextlib.closing(sqlite3.connect(service.db)) as db:
        rows = db.execute(
            "SELECT r.source, r.time_zone, r.distance_m, r.summary FROM runs r JOIN runners u ON r.runner_id = u.id"
            " WHERE u.email = ?",
            ("p@example.com",),
        ).fetchall()
    assert len(rows) == 1 and rows[0][:2] == ("pod", "Europe/Paris")
    assert abs(rows[0][2] - 0.3 * 19) < 1e-3, "19 steps of 3 dm of the pod's total"
    assert json.loads(rows[0][3])["sensor"]["serial"] == "ACME-0042"
