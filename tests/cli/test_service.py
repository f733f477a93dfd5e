"""``soleware serve`` (started by the ``service`` fixture, which also checks it stops cleanly)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import httpx
import pytest
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


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://runner@127.0.0.1/runs", "SQLite or PostgreSQL"),
        (
            "sqlite:////nonexistent/folder/runs.db",
            "cannot open the database sqlite:////nonexistent/folder/runs.db",
        ),
        ("postgresql://runner:secret@127.0.0.1:1/runs", "cannot open the database postgresql://runner:***@"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_clear_line(url: str, says: str) -> None:
    """Every command that opens the database says which one and why, hides its password and exits with 2."""
    for args in (
        ["db", "upgrade"],
        ["export", "some-run", "--user", "a@example.com"],
        ["serve", "--port", "1"],
    ):
        res = CliRunner().invoke(app, [*args, "--database-url", url])
        assert res.exit_code == 2, res.output
        assert isinstance(res.exception, SystemExit)
        assert says in res.output and "secret" not in res.output
