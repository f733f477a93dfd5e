"""``soleware serve`` (started by the ``service`` fixture, which also checks it stops cleanly)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import httpx
from typer.testing import CliRunner

from soleware.cli import app


def test_serve_answers_where_it_was_told(service) -> None:
    """The service answers on ``--host``/``--port`` and keeps its data in ``--database-url``."""
    assert httpx.get(service.url + "/api/health").status_code == 200
    r = httpx.post(
        service.url + "/api/auth/signup", json={"email": "s@example.com", "password": "long enough"}
    )
    assert r.status_code == 201, r.text
    with contextlib.closing(sqlite3.connect(service.db)) as db:
        assert ("s@example.com",) in db.execute("SELECT email FROM runners").fetchall()


def test_serve_needs_at_least_one_worker(tmp_path: Path) -> None:
    """Several workers are fine on either database (``tests/server/test_processes.py``); none is not."""
    res = CliRunner().invoke(
        app, ["serve", "--workers", "0", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert res.exit_code == 2 and "--workers" in res.output
