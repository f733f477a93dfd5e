"""What a request may cost: body limits (by Content-Length and while streaming), memory, and errors that never
echo what was sent."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from soleware.gait import Gait, Side, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.link.gateway import LoggedRun, run_upload_body
from soleware.server.app import create_app
from soleware.server.config import RUN_UPLOAD_BYTES, Settings
from soleware.server.local import serving
from soleware.shoe.runlog import RunStart, Stride

PASSWORD = "correct horse battery"


def raw_post(url: str, path: str, headers: dict[str, str], chunks: Iterable[bytes] = ()) -> tuple[int, dict]:
    """POST over a bare socket, so that nothing fixes up or buffers the body; the answer's status and JSON."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as s:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        s.sendall(head.encode() + b"\r\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for chunk in chunks:
                s.sendall(chunk)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while not data.endswith(b"}"):
                got = s.recv(65536)
                if not got:
                    break
                data += got
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body or b"null")


def chunked(body: bytes, size: int = 65536) -> Iterable[bytes]:
    for i in range(0, len(body), size):
        part = body[i : i + size]
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def small_run(n: int = 50) -> bytes:
    strides = [
        {"side": "left", "t_start_s": i * 0.7, "t_end_s": (i + 1) * 0.7, "length_m": 2.0} for i in range(n)
    ]
    return json.dumps({"start_time": "2026-04-01T06:00:00+00:00", "strides": strides}).encode()


def test_a_six_hour_run_from_two_shoes_fits_the_upload_limit_with_room():
    """The gateway's own upload body for 6 h of both shoes at 200 steps/min, every value at its longest."""
    feet = {}
    for side in (Side.LEFT, Side.RIGHT):
        strides = [
            Stride.from_stride(
                GaitStride(
                    t_start_s=0.6 * i + 0.013,
                    t_end_s=0.6 * (i + 1) + 0.013,
                    length_m=2.987,
                    speed_mps=6.123,
                    cadence_spm=199.7,
                    contact_time_s=0.187,
                    flight_time_s=0.113,
                    strike_angle_deg=-12.3,
                    strike_type=StrikeType.FOREFOOT,
                    impact_mps2=876.5,
                    gait=Gait.RUN,
                ),
                seq=i + 1,
                run_id=1,
                side=side,
            )
            for i in range(6 * 60 * 100)
        ]
        start = RunStart(seq=0, run_id=1, start_unix_ms=1_780_000_000_000, side=side)
        run = LoggedRun(run_id=1, first_seq=0, last_seq=len(strides), start=start, strides=strides)
        feet[side] = (f"SW-{side.name[0]}-0001", run)
    body = run_upload_body(feet, time_zone="America/Argentina/ComodRivadavia", title="x" * 200).to_json()
    assert len(body["strides"]) == 72_000
    size = len(json.dumps(body).encode())  # with spaces: larger than httpx sends
    assert 15e6 < size < RUN_UPLOAD_BYTES / 1.5, size
    assert Settings().max_run_upload_bytes == RUN_UPLOAD_BYTES


@pytest.fixture
async def server(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'limits.db'}", max_run_upload_bytes=1_000_000)
    async with serving(settings, runner=("ada@example.com", PASSWORD)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            r = await c.post("/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD})
        yield url, {"Authorization": f"Bearer {r.json()['access_token']}", "Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/api/auth/signin", "/api/auth/signup", "/api/runs", "/api/runs/import"])
async def test_an_oversized_content_length_is_refused_before_any_body_byte(server, path):
    url, _ = server
    # 100 MB announced, nothing sent: the answer comes at once (else this would wait for the body until timeout)
    status, body = await _in_thread(raw_post, url, path, {"Content-Length": str(100_000_000)})
    assert status == 413 and "larger than" in body["detail"]


async def test_an_oversized_chunked_body_is_refused_while_it_streams(server):
    url, auth = server
    headers = {**auth, "Transfer-Encoding": "chunked"}
    status, body = await _in_thread(raw_post, url, "/api/runs", headers, chunked(small_run(20_000)))
    assert len(small_run(20_000)) > 1_000_000
    assert status == 413 and "larger than 1000000 bytes" in body["detail"]
    sign_in = json.dumps({"email": "ada@example.com", "password": "x" * 40_000}).encode()
    h = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    status, body = await _in_thread(raw_post, url, "/api/auth/signin", h, chunked(sign_in, 4096))
    assert status == 413 and "larger than 16384 bytes" in body["detail"]
    # under the limit a chunked upload is stored as any other
    status, body = await _in_thread(raw_post, url, "/api/runs", headers, chunked(small_run(50)))
    assert status == 201, body


async def _in_thread(fn, *args):
    import asyncio

    return await asyncio.to_thread(fn, *args)


# ---------------------------------------------------------------------- nothing sent comes back
SECRETS = ("Zq7-hunter2-Secret-Pw", "zQ7#x!")  # a long one and one too short for a password


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'echo.db'}", sign_in_free_attempts=10_000))
    with TestClient(app) as c:
        c.post("/api/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
        token = c.post("/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield c


#: a valid body of every route that takes JSON (the test fails when a route is added without one here)
VALID = {
    ("post", "/api/auth/signup"): {"email": "bob@example.com", "password": PASSWORD, "display_name": "Bob"},
    ("post", "/api/auth/signin"): {"email": "ada@example.com", "password": PASSWORD},
    ("post", "/api/auth/session"): {"email": "ada@example.com", "password": PASSWORD},
    ("patch", "/api/me"): {"display_name": "Ada", "time_zone": "UTC", "locale": "en"},
    ("post", "/api/runs"): json.loads(small_run(3)),
    ("post", "/api/runs/manual"): {
        "start_time": "2026-03-02T07:00:00+00:00",
        "time_zone": "UTC",
        "distance_m": 5000.0,
        "duration_s": 1500.0,
        "title": "Treadmill",
        "shoe_serials": ["SW-L-0001"],
    },
    ("patch", "/api/runs/{run_id}"): {"title": "Morning"},
    ("put", "/api/runs/{run_id}/reference"): {"kind": "treadmill", "distance_m": 5000.0},
    ("post", "/api/shoes"): {"serial": "SW-L-0001", "name": "Left", "side": "left"},
    ("patch", "/api/shoes/{serial}"): {"name": "Left"},
    ("post", "/api/live"): {"t_s": 1.0, "distance_m": 2.0, "speed_mps": 2.0, "feet": {"left": {"x": 1.0}}},
    ("post", "/api/refused-uploads"): {
        "key": "SW-L-1:run3",
        "reason": "422 too long",
        "body": json.loads(small_run(2)),
    },
}


#: fields an account shows back once stored (in ``Me``)
PROFILE = ("email", "display_name", "time_zone")
#: what a route stores and shows back by design, by route (a refused upload is listed with its key, reason and
#: the start and shoes of the body the runner's gateway kept); every other route: PROFILE
SHOWN = {("post", "/api/refused-uploads"): ("key", "reason", "body")}


def _fill(value, secret):
    """``value`` with every string, key of a free-form dict and number replaced by ``secret``."""
    if isinstance(value, dict):
        return {k: _fill(v, secret) for k, v in value.items()} | {secret: secret}
    if isinstance(value, list):
        return [_fill(v, secret) for v in value] or [secret]
    return secret


def _variants(body: dict, secret: str):
    """The body with all of it secret, and with one field at a time (top level and in the first list item)."""
    yield _fill(body, secret)
    for k, v in body.items():
        yield {**body, k: secret}
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for kk in v[0]:
                yield {**body, k: [{**v[0], kk: secret}, *v[1:]]}
        if isinstance(v, dict):
            yield {**body, k: {**v, secret: secret}}
            for kk in v:
                yield {**body, k: {**v, kk: secret}}


def test_no_answer_repeats_a_submitted_value(client):
    schema = client.get("/openapi.json").json()
    json_routes = {
        (method, path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    }
    assert json_routes == set(VALID)
    run_id = client.post("/api/runs", json=VALID[("post", "/api/runs")]).json()["run_id"]
    client.post("/api/shoes", json=VALID[("post", "/api/shoes")])
    checked = 0
    for (method, path), body in VALID.items():
        url = path.format(run_id=run_id, serial="SW-L-0001")
        for secret in SECRETS:
            for variant in _variants(body, secret):
                for auth in (True, False):
                    headers = None if auth else {"Authorization": "Bearer not-a-token"}
                    r = client.request(method.upper(), url, json=variant, headers=headers)
                    checked += 1
                    client.cookies.clear()  # a session cookie from /api/auth/session must not sign in the rest
                    where = f"{method.upper()} {path} {variant!r} -> {r.status_code} {r.text[:300]}"
                    # a profile that was stored shows its own fields; nothing else, and never a password
                    shown = SHOWN.get((method, path), PROFILE)
                    stored = r.status_code < 400 and any(secret in json.dumps(variant.get(f)) for f in shown)
                    assert stored or secret not in r.text, where
                    assert secret not in str(r.headers), where
                    assert r.status_code != 401 or not auth or path.startswith("/api/auth"), where
    for secret in SECRETS:  # the multipart routes: every form field and the file names and contents
        for path in ("/api/runs/recording", "/api/runs/import"):
            r = client.post(
                path,
                data={"start_time": secret, "time_zone": secret, "title": secret, "shoe_serials": secret},
                files=[("files", (f"{secret}.csv", secret.encode())), ("files", (secret, secret.encode()))],
            )
            checked += 1
            assert r.status_code >= 400 or path.endswith("import")
            assert secret not in r.text.replace(f"{secret}.csv", "").replace(f'"{secret}"', ""), r.text
    assert checked > 100


def test_a_sign_in_without_e_mail_does_not_return_the_password(client):
    r = client.post("/api/auth/signin", json={"password": SECRETS[0]})
    assert r.status_code == 422 and r.json()["detail"] == [
        {"loc": ["body", "email"], "msg": "Field required", "type": "missing"}
    ]
    r = client.post("/api/auth/signup", json={"email": "eve@example.com", "password": SECRETS[1]})
    assert r.status_code == 422 and SECRETS[1] not in r.text and "at least 8 characters" in r.text


# ---------------------------------------------------------------------- memory
def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM:")).split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_50_mb_body_costs_the_server_at_most_its_limit(tmp_path):
    """A server process's peak memory while a 50 MB run upload is refused, announced and streamed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOLEWARE_DATABASE_URL": f"sqlite:///{tmp_path / 'mem.db'}"}
    p = subprocess.Popen(
        [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            time.sleep(0.1)
        httpx.post(url + "/api/auth/signup", json={"email": "m@example.com", "password": PASSWORD})
        token = httpx.post(url + "/api/auth/signin", json={"email": "m@example.com", "password": PASSWORD})
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Content-Type": "application/json",
        }
        body = small_run(1000)[:-2] + b", " + b" " * 50_000_000 + b"]}"  # 50 MB, valid JSON
        growth = {}
        for how, extra, chunks in (
            ("announced", {"Content-Length": str(len(body))}, ()),
            ("streamed", {"Transfer-Encoding": "chunked"}, chunked(body, 1 << 20)),
        ):
            time.sleep(0.3)
            Path(f"/proc/{p.pid}/clear_refs").write_text("5")  # argon2's 64 MiB from signing in would hide it
            before = _peak_mb(p.pid)
            status, answer = raw_post(url, "/api/runs", {**headers, **extra}, chunks)
            growth[how] = _peak_mb(p.pid) - before
            assert status == 413, answer
        print(f"server peak RSS growth for a 50 MB body: {growth}")
        assert growth["announced"] < 5
        assert growth["streamed"] < 1.5 * RUN_UPLOAD_BYTES / 2**20
    finally:
        p.terminate()
        p.wait(30)
