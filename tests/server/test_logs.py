"""The server's logs never hold a password or an access token; ``db upgrade`` and ``user create`` work."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from soleware.cli import app
from soleware.runs.storage.migrate import head_revision


def test_no_secrets_in_the_server_log(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOLEWARE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        p = subprocess.Popen(
            [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    password = "very-secret-password-42"
    try:
        for _ in range(150):
            try:
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.post(
            url + "/api/auth/signup", json={"email": "s@example.com", "password": password}
        ).raise_for_status()
        token = httpx.post(
            url + "/api/auth/signin", json={"email": "s@example.com", "password": password}
        ).json()["access_token"]
        httpx.post(url + "/api/auth/signin", json={"email": "s@example.com", "password": password + "x"})
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(url + "/api/runs", headers=headers)
        httpx.post(
            url + "/api/runs", headers=headers, content=json.dumps({"start_time": "bad", "token": token})
        )
    finally:
        p.terminate()
        p.wait(10)
    text = log.read_text()
    assert "POST /api/auth/signin" in text, "the access log is on"
    assert password not in text and token not in text


def test_db_upgrade_and_user_create(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli = CliRunner()
    r = cli.invoke(app, ["db", "upgrade", "--database-url", url])
    assert r.exit_code == 0 and "empty →" in r.output
    assert f"→ {head_revision()}" in cli.invoke(app, ["db", "upgrade", "--database-url", url]).output
    r = cli.invoke(
        app,
        ["user", "create", "Lin@Example.com", "--name", "林", "--locale", "zh", "--database-url", url],
        input="long enough\nlong enough\n",
    )
    assert r.exit_code == 0 and "created lin@example.com" in r.output
    r = cli.invoke(
        app, ["user", "create", "lin@example.com", "--database-url", url], input="long enough\nlong enough\n"
    )
    assert r.exit_code == 1 and "already exists" in r.output
