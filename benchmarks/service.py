"""Run service under load, on SQLite and on PostgreSQL: latency with 10,000 runs stored, and a concurrent mix.

    .venv/bin/python benchmarks/service.py [--runs 10000] [--clients 16] [--seconds 20] [--db sqlite,postgresql]

For each database: seeds one runner with ``--runs`` runs through the store, starts ``soleware serve`` as its own
process, then measures (1) sequential latency of the run list, the records page and adding a run (which updates
records and achievements), and (2) a mixed load of uploads (some of them duplicates), run lists and run details
from ``--clients`` concurrent clients. Afterwards it checks that every upload is stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

from soleware.runs.model import Run, Streams
from soleware.runs.storage import RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EMAIL, PASSWORD = "load@example.com", "load test password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed_run(i: int) -> Run:
    """A 30-minute run from a watch (streams every 10 s), one every 20 hours up to 2026."""
    t = np.arange(0.0, 1800.0, 10.0)
    v = 2.8 + 0.6 * random.Random(i).random()
    streams = Streams(
        t_s=t,
        distance_m=v * t,
        speed_mps=np.full(len(t), v),
        cadence_spm=np.full(len(t), 168.0),
        stride_length_m=np.full(len(t), 2.0),
        contact_time_s=np.full(len(t), 0.25),
    )
    start = dt.datetime(2003, 3, 1, 6, tzinfo=dt.UTC) + dt.timedelta(hours=20 * i)
    return Run.from_streams(streams, start_time=start, time_zone="Europe/Berlin")


def _upload(i: int, n_strides: int = 1500) -> dict:
    """A shoe upload of two feet (about 3 km), unique per ``i``."""
    d = 0.7 + 0.02 * random.Random(10_000_000 + i).random()
    strides, t = [], 0.0
    for _ in range(n_strides):
        for side, off in (("left", 0.0), ("right", d / 2)):
            strides.append(
                {
                    "side": side,
                    "t_start_s": t + off,
                    "t_end_s": t + off + d,
                    "length_m": 2.1,
                    "contact_time_s": 0.24,
                }
            )
        t += d
    start = dt.datetime(2026, 3, 1, 6, tzinfo=dt.UTC) + dt.timedelta(days=i)
    return {
        "start_time": start.isoformat(),
        "time_zone": "Europe/Berlin",
        "shoe_serials": ["L1", "R1"],
        "strides": strides,
    }


@contextlib.contextmanager
def database(kind: str, workdir: Path):
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'load.db'}"
        return
    subprocess.run(["bash", str(ROOT / "scripts/postgres"), "install"], check=True)
    pg = workdir / "pg"
    url = subprocess.run(
        ["bash", str(ROOT / "scripts/postgres"), "start", str(pg)], check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    try:
        yield url
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/postgres"), "stop", str(pg)], check=False)


@contextlib.contextmanager
def server(url: str):
    port = _free_port()
    env = {**os.environ, "SOLEWARE_DATABASE_URL": url, "SOLEWARE_SIGN_IN_ATTEMPTS": "100000"}
    p = subprocess.Popen(
        [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/api/health").status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        p.terminate()
        p.wait(10)


def _ms(xs: list[float]) -> str:
    a = 1000 * np.array(xs)
    return f"p50 {np.percentile(a, 50):6.1f} ms  p95 {np.percentile(a, 95):6.1f} ms"


async def sequential(base: str, headers: dict[str, str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"run list": [], "records page": [], "add a run": []}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
        for _ in range(5):
            await c.get("/api/runs")
        for _ in range(200):
            t = time.perf_counter()
            r = await c.get("/api/runs", params={"limit": 20})
            out["run list"].append(time.perf_counter() - t)
            assert r.status_code == 200 and len(r.json()["runs"]) == 20
        for _ in range(100):
            t = time.perf_counter()
            r = await c.get("/api/records")
            out["records page"].append(time.perf_counter() - t)
            assert r.status_code == 200
        for i in range(40):
            body = _upload(500_000 + i, n_strides=600)
            t = time.perf_counter()
            r = await c.post("/api/runs", json=body)
            out["add a run"].append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
    return out


async def mixed(base: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[dict, int, dict]:
    lat: dict[str, list[float]] = {"upload": [], "duplicate upload": [], "run list": [], "run detail": []}
    ids: dict[int, str] = {}
    owner: dict[int, int] = {}
    errors = 0
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def client(k: int) -> None:
        nonlocal errors
        rng = random.Random(k)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
            page = (await c.get("/api/runs", params={"limit": 50})).json()["runs"]
            # each client uploads as its own runner (a runner's uploads are serialised by design), and reads the
            # big history of the seeded runner
            own = {"email": f"client{k}@example.com", "password": PASSWORD}
            await c.post("/api/auth/signup", json=own)
            token = (await c.post("/api/auth/signin", json=own)).json()["access_token"]
            mine = {"Authorization": f"Bearer {token}"}
            while time.monotonic() < deadline:
                x = rng.random()
                t = time.perf_counter()
                if x < 0.15:
                    i = next(counter)
                    r = await c.post("/api/runs", json=_upload(i, n_strides=400), headers=mine)
                    kind = "upload"
                    if r.status_code in (200, 201):
                        ids[i] = r.json()["run_id"]
                        owner[i] = k
                elif x < 0.2 and ids:
                    i = rng.choice([j for j in ids if owner[j] == k] or [None])
                    if i is None:
                        continue
                    r = await c.post("/api/runs", json=_upload(i, n_strides=400), headers=mine)
                    kind = "duplicate upload"
                    if r.status_code != 200 or r.json()["run_id"] != ids[i]:
                        errors += 1
                elif x < 0.7:
                    r = await c.get("/api/runs", params={"limit": 20})
                    kind = "run list"
                else:
                    r = await c.get(f"/api/runs/{rng.choice(page)['id']}")
                    kind = "run detail"
                lat[kind].append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - t0
    return lat, errors, {"wall_s": wall, "uploads": len(ids)}


def bench(kind: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        # uploads of the mixed load go to one runner per client, see mixed()
        engine = make_engine(url)
        upgrade(engine)
        store = RunStore(engine)
        runner = store.create_runner(EMAIL, PASSWORD)
        t = time.perf_counter()
        for i in range(args.runs):
            store.add_run(runner.id, _seed_run(i))
        seed_s = time.perf_counter() - t
        print(
            f"\n== {kind}: {args.runs} runs seeded in {seed_s:.1f} s ({1000 * seed_s / args.runs:.1f} ms per run, store.add_run)"
        )
        with server(url) as base:
            token = httpx.post(base + "/api/auth/signin", json={"email": EMAIL, "password": PASSWORD}).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            seq = asyncio.run(sequential(base, headers))
            for name, xs in seq.items():
                print(f"  {name:18} {_ms(xs)}   (n={len(xs)}, sequential, {args.runs}+ runs stored)")
            lat, errors, info = asyncio.run(mixed(base, headers, args.clients, args.seconds))
            total = sum(len(v) for v in lat.values())
            print(
                f"  mixed load, {args.clients} clients, {info['wall_s']:.0f} s: {total / info['wall_s']:.0f} requests/s, {errors} errors"
            )
            for name, xs in lat.items():
                if xs:
                    print(f"    {name:18} {_ms(xs)}   ({len(xs) / info['wall_s']:.1f}/s)")
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
        expected = args.runs + 40 + info["uploads"]
        verdict = "OK" if stored == expected and errors == 0 else "MISMATCH"
        print(
            f"  stored runs {stored}, expected {expected} (seeded + 40 + unique uploads): {verdict}, nothing lost or duplicated"
            if verdict == "OK"
            else f"  stored runs {stored}, expected {expected}: {verdict}"
        )
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--db", default="sqlite,postgresql")
    args = ap.parse_args()
    for kind in args.db.split(","):
        bench(kind, args)


if __name__ == "__main__":
    main()
