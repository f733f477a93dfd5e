"""Browser-test fixtures: the run service in a subprocess (uvicorn, temp SQLite) and Debian's headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
# Browser tests wait for a state with expect(...) or wait_for_*, never for a time; expect gets the same 10 s cap as
# the contexts give every action (its default, 5 s, is short on a busy machine).
expect.set_options(timeout=10_000)
SERVE = """
import sys, uvicorn
from soleware.server.app import create_app
from soleware.server.config import Settings
app = create_app(Settings(database_url=sys.argv[1]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", ws="websockets-sansio")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m``-style uvicorn process that can be stopped and started again on the same port and database."""

    def __init__(self, database_url: str, port: int) -> None:
        self.database_url = database_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, self.database_url, str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def _signed_up_page(browser, server: Server, *, name: str, email: str, timezone_id: str):
    """A new phone-sized page (390×844, en-GB) of a runner who just signed up, with ``page.errors`` collecting
    the page's errors and console errors (a WebSocket closing aside). Close its ``page.context`` when done."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=server.url, locale="en-GB", timezone_id=timezone_id
    )
    ctx.set_default_timeout(10_000)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "WebSocket" not in m.text else None,
    )
    p.errors = errors  # type: ignore[attr-defined]
    p.goto("/signup")
    p.get_by_label("Your name").fill(name)
    p.get_by_label("E-mail").fill(email)
    p.get_by_label("Password").fill("correct horse battery")
    p.get_by_role("button", name="Create account").click()
    p.wait_for_url(server.url + "/")
    return p


@pytest.fixture(scope="module")
def signed_up_page(browser, server):
    """Opens a page of a runner who just signed up (see ``_signed_up_page``): ``signed_up_page(name=, email=,
    timezone_id=)``."""
    return lambda **who: _signed_up_page(browser, server, **who)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("web") / "soleware.db"
    srv = Server(f"sqlite:///{db}", _free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    d = Path(os.environ.get("SOLEWARE_SCREENSHOTS", "/tmp/soleware-screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_violations(page, label: str) -> list[str]:
    """axe-core's serious and critical violations on the page, each labelled with ``label``."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{label}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="session")
def axe():
    """:func:`axe_violations`, for the browser tests."""
    return axe_violations
