"""Inputs made once by the commands themselves: a short simulated run (``shoe simulate``), a run service (``serve``)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    """A ``soleware serve`` process on a fresh SQLite database."""

    url: str
    database_url: str
    db: Path
    log: Path


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``soleware serve --host --port --workers 1 --database-url``, started once, answering, and stopped cleanly."""
    d = tmp_path_factory.mktemp("service")
    port, db = free_port(), d / "served.db"
    cmd = [sys.executable, "-m", "soleware.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", "1", "--database-url", f"sqlite:///{db}"]
    svc = Service(f"http://127.0.0.1:{port}", f"sqlite:///{db}", db, d / "serve.log")
    with svc.log.open("w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(svc.url + "/api/health").status_code == 200:
                    break
            assert p.poll() is None and time.monotonic() < deadline, svc.log.read_text()[-2000:]
            time.sleep(0.2)
        yield svc
    finally:
        p.terminate()
        p.wait(20)
    # uvicorn shuts down cleanly, then re-raises the signal it got (exit status -15)
    assert "Application shutdown complete" in svc.log.read_text(), svc.log.read_text()[-2000:]
