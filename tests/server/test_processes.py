"""Several stateless server processes on one database (PostgreSQL, or one machine's SQLite file): a live update
posted to one reaches a page on another, and they share one sign-in budget."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server_process(database_url: str, *, workers: int = 1, **settings: str):
    port = _free_port()
    env = {**os.environ, "SOLEWARE_DATABASE_URL": database_url}
    env.update({f"SOLEWARE_{k.upper()}": v for k, v in settings.items()})
    p = subprocess.Popen(
        [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            if p.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {p.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        p.terminate()
        p.wait(10)


async def test_live_update_crosses_server_processes(database_url):
    import asyncio
    import json

    import websockets

    with server_process(database_url) as a, server_process(database_url) as b:
        async with httpx.AsyncClient() as c:
            r = await c.post(
                a + "/api/auth/signup", json={"email": "x@example.com", "password": "cross process"}
            )
            assert r.status_code == 201
            token = (
                await c.post(
                    b + "/api/auth/signin", json={"email": "x@example.com", "password": "cross process"}
                )
            ).json()["access_token"]
            async with websockets.connect(b.replace("http", "ws") + "/api/live/ws") as ws:
                await ws.send(json.dumps({"token": token}))
                assert json.loads(await ws.recv())["type"] == "idle"
                update = {"t_s": 12.0, "distance_m": 42.0, "speed_mps": 3.0, "running": True}
                r = await c.post(a + "/api/live", json=update, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 202
                got = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert got["type"] == "update" and got["distance_m"] == 42.0
                for k in range(3):  # each once, in order, although the page's process also reads them back
                    update["distance_m"] = 50.0 + k
                    await c.post(a + "/api/live", json=update, headers={"Authorization": f"Bearer {token}"})
                    await asyncio.sleep(0.6)
                assert (
                    await c.delete(a + "/api/live", headers={"Authorization": f"Bearer {token}"})
                ).is_success
                seen = []
                while not seen or seen[-1]["type"] != "end":
                    seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                assert [m.get("distance_m") for m in seen] == [50.0, 51.0, 52.0, None]
            # and the run uploaded through one process is listed by the other
            run = {
                "start_time": "2026-04-01T06:00:00+00:00",
                "strides": [
                    {"side": "left", "t_start_s": i * 0.7, "t_end_s": (i + 1) * 0.7, "length_m": 2.0}
                    for i in range(50)
                ],
            }
            assert (
                await c.post(a + "/api/runs", json=run, headers={"Authorization": f"Bearer {token}"})
            ).status_code == 201
            listed = (await c.get(b + "/api/runs", headers={"Authorization": f"Bearer {token}"})).json()[
                "runs"
            ]
            assert len(listed) == 1


async def test_sign_in_budget_is_shared_by_the_workers(database_url):
    """`soleware serve --workers 2`: 30 wrong passwords at once, each on a fresh connection, get 5 checked."""
    import asyncio

    with server_process(database_url, workers=2, sign_in_base_delay_s="60") as url:
        async with httpx.AsyncClient() as c:
            r = await c.post(
                url + "/api/auth/signup", json={"email": "w@example.com", "password": "two workers"}
            )
            assert r.status_code == 201

        async def wrong(i: int) -> int:
            async with httpx.AsyncClient(headers={"Connection": "close"}) as fresh:
                body = {"email": "w@example.com", "password": f"wrong {i}"}
                return (await fresh.post(url + "/api/auth/signin", json=body)).status_code

        answers = await asyncio.gather(*(wrong(i) for i in range(30)))
    assert sorted(answers) == [401] * 5 + [429] * 25
