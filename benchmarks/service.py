"""Run service at 100 and at 10,000 realistic runs, on SQLite and PostgreSQL: every route the web app calls.

    .venv/bin/python benchmarks/service.py [--runs 10000] [--db sqlite,postgresql] [--clients 8] [--seconds 20]
        [--workers 1,2] [--baseline ../main/src] [--keep DIR]

For each database: seeds one runner (time zone Europe/Berlin, two registered shoes) with realistic runs — 3 to
15 km, both feet's strides as the shoes upload them (ms, mm, mm/s, 0.1 spm, ms, 0.1°, 0.1 m/s²; stride-to-stride
variation: duration 1.5 %, length 2 %, contact and flight time 6 ms, strike angle 2°, impact 0.3 g), one run
every 20 hours up to now — through ``RunStore.add_runs`` in batches, and a second runner with the last 100 runs
of the same history. It starts ``soleware serve`` with 1 worker, then 2 (``--workers``), and measures,
sequentially and with ``--clients`` concurrent clients, the pages and API routes the web app calls: progress (week,
month), shoes, records, achievements, the run list, a run's page; then uploads (a run just finished, one synced 3
days late, one imported from a year ago, one older than every stored run) and deletes of a record holder (its
records and achievements recomputed from the other runs), each one by the big history's runner and then by the
100-run runner, on the same server, so their CPU times compare on the same machine state. It prints p50/p95 per
route, the stored bytes per run (and per 10 km run) and the database size.

``--baseline SRC`` measures the service of another source tree (e.g. a checkout of main) on the same seeded
database, before this tree's: the rows name which code served them. ``--keep DIR`` (SQLite only) keeps the
seeded database in DIR and reuses it next time (runs of earlier benchmarks' uploads stay in it; the 100-run
runner is seeded afresh each time).

Seeding reuses the packed strides of 40 template runs (start times differ; the stores' packing of a template's
strides is memoised here only): packing 9,000 strides takes ~80 ms and would dominate seeding, not the service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

import soleware.runs.storage.runs as storage_runs
from soleware.gait.vocabulary import GRAVITY_MPS2
from soleware.runs.model import Run, Stride, StrikeType
from soleware.runs.storage import AuthError, RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EMAIL, PASSWORD = "load@example.com", "load test password"
EMAIL_SMALL = "load100@example.com"
SMALL_RUNS = 100
ZONE = "Europe/Berlin"
EVERY = dt.timedelta(hours=20)
TEMPLATES = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shoe_strides(distance_m: float, seed: int) -> list[dict]:
    """Both feet's strides of a run of ``distance_m`` as the shoes upload them (their wire resolution)."""
    rng = np.random.default_rng(seed)
    out = []
    pace = 0.72 * (1 + 0.08 * rng.standard_normal())
    length = 2.2 + 0.3 * rng.random()
    for side, offset_s in (("left", 0.0), ("right", pace / 2)):
        t_ms, d_m = round(1000 * offset_s), 0.0
        while d_m < distance_m:
            dur = round(1000 * pace * (1 + 0.015 * rng.standard_normal()))
            length_mm = round(1000 * length * (1 + 0.02 * rng.standard_normal()))
            out.append(
                {
                    "side": side,
                    "t_start_s": t_ms / 1000,
                    "t_end_s": (t_ms + dur) / 1000,
                    "length_m": length_mm / 1000,
                    "speed_mps": round(length_mm * 1000 / dur) / 1000,
                    "cadence_spm": round(1200 * 1000 / dur) / 10,
                    "contact_time_s": round(240 + 6 * rng.standard_normal()) / 1000,
                    "flight_time_s": round(dur / 2 - 240 + 6 * rng.standard_normal()) / 1000,
                    "strike_angle_deg": round(80 + 20 * rng.standard_normal()) / 10,
                    "strike_type": "midfoot" if rng.random() < 0.7 else "rearfoot",
                    "impact_g": round(10 * (3 + 0.3 * rng.standard_normal()) * GRAVITY_MPS2)
                    / 10
                    / GRAVITY_MPS2,
                }
            )
            t_ms += dur
            d_m += length_mm / 1000
    return out


def _template(k: int) -> Run:
    distance = 3000 + 12000 * k / (TEMPLATES - 1)
    strides = [
        Stride(**{**s, "strike_type": StrikeType(s["strike_type"])}) for s in shoe_strides(distance, k)
    ]
    return Run.from_strides(strides, start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), time_zone=ZONE)


def _memoise_packing() -> None:
    """The templates' strides are shared by every seeded run made from them: pack them once."""
    cache: dict[int, tuple[list, bytes]] = {}
    pack = storage_runs.pack_strides

    def memo(strides: list) -> bytes:
        hit = cache.get(id(strides))
        if hit is None or hit[0] is not strides:
            hit = cache[id(strides)] = (strides, pack(strides))
        return hit[1]

    storage_runs.pack_strides = memo


def seed(
    store: RunStore, runner_id: str, templates: list[Run], first: int, last: int, end: dt.datetime
) -> float:
    """Runs number ``first`` .. ``last - 1`` of the history (run n starts (N - n) × 20 h before ``end``)."""
    t = time.perf_counter()
    batch: list[Run] = []
    for i in range(first, last):
        tpl = templates[i % len(templates)]
        pair = f"{(i // 500):02d}"
        batch.append(
            dataclasses.replace(
                tpl,
                start_time=end - (ARGS.runs - i) * EVERY + dt.timedelta(minutes=i % 37),
                shoe_serials=(f"L{pair}", f"R{pair}"),
                title=f"Run {i}",
            )
        )
        if len(batch) == 250 or i == last - 1:
            store.add_runs(runner_id, batch)
            batch = []
    return time.perf_counter() - t


@contextlib.contextmanager
def database(kind: str, workdir: Path):
    if kind == "postgresql" and ARGS.keep:
        raise SystemExit("--keep keeps SQLite databases only (PostgreSQL's cluster goes with the benchmark)")
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
def server(url: str, workers: int = 1, src: str | None = None):
    """``soleware serve`` on ``url``, from this tree or from the source tree ``src``."""
    port = _free_port()
    env = {**os.environ, "SOLEWARE_DATABASE_URL": url, "SOLEWARE_SIGN_IN_ATTEMPTS": "100000"}
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    p = subprocess.Popen(
        [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    SERVER_PID[base] = p.pid
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


def server_cpu_s(pid: int) -> float:
    """CPU time (user + system) used so far by the server process and its workers (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, stats = 0.0, {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(d.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    family = {pid}
    while True:
        more = {p for p, (ppid, _) in stats.items() if ppid in family} - family
        if not more:
            break
        family |= more
    for p in family:
        if p in stats:
            total += stats[p][1] / tick
    return total


def _p(xs: list[float], q: float) -> float:
    return float(np.percentile(1000 * np.array(xs), q)) if xs else float("nan")


class Uploads:
    """Upload bodies of fresh runs (5 km, both feet) at a chosen start."""

    def __init__(self) -> None:
        self.n = 0

    def body(self, start: dt.datetime) -> dict:
        self.n += 1
        return {
            "start_time": start.isoformat(),
            "time_zone": ZONE,
            "shoe_serials": ["L19", "R19"],
            "strides": shoe_strides(5000.0, 1_000_000 + self.n),
        }


async def measure_deletes(clients: dict[str, httpx.AsyncClient], n: int) -> dict[str, dict[str, list[float]]]:
    """``n`` deletes of a record holder per runner, the runners in turn: the run holding the standing record at
    the longest distance with one (its records are recomputed from the other runs, and its achievements)."""
    out: dict[str, dict[str, list[float]]] = {who: {} for who in clients}
    name = "delete (record holder)"
    for _ in range(n):
        for who, c in clients.items():
            base = str(c.base_url).rstrip("/")
            records = (await c.get("/api/records")).json()
            holder = next(r["best"][0]["run_id"] for r in reversed(records) if r["best"])
            cpu = server_cpu_s(SERVER_PID[base])
            t = time.perf_counter()
            r = await c.delete(f"/api/runs/{holder}")
            out[who].setdefault(name, []).append(time.perf_counter() - t)
            out[who].setdefault("cpu " + name, []).append(server_cpu_s(SERVER_PID[base]) - cpu)
            assert r.status_code == 204, r.text
    return out


async def measure_uploads(
    clients: dict[str, httpx.AsyncClient], ups: Uploads, latest: list[dt.datetime], n: int
) -> dict[str, dict[str, list[float]]]:
    """``n`` uploads of each kind per runner, the runners in turn (so both see the same machine): a run just
    finished (after every run; ``latest[0]`` moves on), one synced 3 days late, one imported from a year ago (both
    between stored runs) and one older than every stored run. Also the server's CPU time of each (``cpu …``)."""
    out: dict[str, dict[str, list[float]]] = {who: {} for who in clients}
    for k in range(n):
        latest[0] += dt.timedelta(hours=3)
        kinds = {
            "upload (current)": latest[0],
            "upload (3 days back)": latest[0] - dt.timedelta(days=3, hours=10, minutes=7 * k),
            "upload (1 year back)": latest[0] - dt.timedelta(days=365, hours=10, minutes=7 * k),
            # an old run imported late: before every stored run of either runner
            "upload (before all)": latest[0] - (ARGS.runs + 10) * EVERY - dt.timedelta(minutes=7 * k),
        }
        for name, start in kinds.items():
            body = ups.body(start)
            for who, c in clients.items():
                base = str(c.base_url).rstrip("/")
                cpu = server_cpu_s(SERVER_PID[base])
                t = time.perf_counter()
                r = await c.post("/api/runs", json=body)
                out[who].setdefault(name, []).append(time.perf_counter() - t)
                out[who].setdefault("cpu " + name, []).append(server_cpu_s(SERVER_PID[base]) - cpu)
                assert r.status_code in (200, 201), r.text
    return out


def read_routes(run_ids: list[str]) -> dict[str, tuple[str, dict]]:
    rid = random.choice(run_ids)
    return {
        "progress week": ("/api/progress", {"period": "week", "last": 12}),
        "progress month": ("/api/progress", {"period": "month", "last": 12}),
        "shoes": ("/api/shoes", {}),
        "records": ("/api/records", {}),
        "achievements": ("/api/achievements", {"locale": "en"}),
        "run list": ("/api/runs", {"limit": 20}),
        "run page": (f"/api/runs/{rid}", {}),
        "run strides": (f"/api/runs/{rid}/strides", {}),
        "me": ("/api/me", {}),
    }


async def sequential(
    base: str, headers: dict[str, str], run_ids: list[str], n: int
) -> dict[str, list[float]]:
    """``n`` requests per route, one at a time; also the server's CPU time per request (``CPU[route]``, s)."""
    out: dict[str, list[float]] = {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
        for _ in range(3):
            for path, params in read_routes(run_ids).values():
                await c.get(path, params=params)
        for name in read_routes(run_ids):
            cpu = server_cpu_s(SERVER_PID[base])
            for _ in range(n):
                path, params = read_routes(run_ids)[name]
                t = time.perf_counter()
                r = await c.get(path, params=params)
                out.setdefault(name, []).append(time.perf_counter() - t)
                assert r.status_code == 200, (name, r.text)
            CPU[(base, name)] = (server_cpu_s(SERVER_PID[base]) - cpu) / n
    return out


async def concurrent(
    base: str,
    headers: dict[str, str],
    run_ids: list[str],
    clients: int,
    seconds: float,
    ups: Uploads,
    end: dt.datetime,
) -> tuple[dict[str, list[float]], int]:
    """``clients`` clients, each a loop of page views of the big history; with ``--upload-share`` > 0 that share
    of requests are uploads (each client its own runner)."""
    lat: dict[str, list[float]] = {}
    errors = 0
    deadline = time.monotonic() + seconds

    async def client(k: int) -> None:
        nonlocal errors
        rng = random.Random(k)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
            mine = headers
            if ARGS.upload_share > 0:  # sign-in is throttled per address: only then a runner per client
                own = {"email": f"client{k}-{int(end.timestamp())}@example.com", "password": PASSWORD}
                await c.post("/api/auth/signup", json=own)
                token = (await c.post("/api/auth/signin", json=own)).json()["access_token"]
                mine = {"Authorization": f"Bearer {token}"}
            j = 0
            while time.monotonic() < deadline:
                if rng.random() < ARGS.upload_share:
                    j += 1
                    body = ups.body(end + dt.timedelta(days=k, minutes=40 * j))
                    t = time.perf_counter()
                    r = await c.post("/api/runs", json=body, headers=mine)
                    name = "upload (current)"
                else:
                    name, (path, params) = rng.choice(list(read_routes(run_ids).items()))
                    t = time.perf_counter()
                    r = await c.get(path, params=params)
                lat.setdefault(name, []).append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1

    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(client(k) for k in range(clients)))
    busy = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    print(f"   the {clients} clients (this process) kept {100 * busy:.0f} % of a core busy")
    return lat, errors


def _sizes(engine: sa.Engine, kind: str, url: str) -> dict[str, float]:
    with engine.connect() as conn:
        cols = "length(strides) + length(streams) + length(summary_packed)"
        per_run = conn.execute(sa.text(f"SELECT avg({cols}) FROM runs")).scalar_one()
        per_10k = conn.execute(
            sa.text(f"SELECT avg({cols}) FROM runs WHERE distance_m BETWEEN 9500 AND 10500")
        ).scalar_one()
        n = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
        if kind == "sqlite":
            # pages in use (the runs of the 100-run phase were deleted: their pages are free, not counted)
            pragma = {
                p: conn.exec_driver_sql(f"PRAGMA {p}").scalar_one()
                for p in ("page_count", "freelist_count", "page_size")
            }
            size = (pragma["page_count"] - pragma["freelist_count"]) * pragma["page_size"]
        else:
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
    return {"blob_per_run": float(per_run), "blob_per_10km": float(per_10k or 0), "runs": n, "db_bytes": size}


def _token(base: str, email: str = EMAIL) -> dict[str, str]:
    r = httpx.post(base + "/api/auth/signin", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _runner(store: RunStore, email: str) -> Any:
    """A new runner (time zone ZONE) with the two shoes the uploads name."""
    runner = store.create_runner(email, PASSWORD, time_zone=ZONE)
    for side in ("L", "R"):
        store.register_shoe(runner.id, f"{side}19", side="left" if side == "L" else "right")
    return runner


def bench(kind: str, args: argparse.Namespace, templates: list[Run]) -> list[tuple]:
    rows: list[tuple] = []
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    with contextlib.ExitStack() as stack:
        workdir = Path(args.keep) if args.keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(database(kind, workdir))
        marker = workdir / f"{kind}.seeded.json"
        kept = json.loads(marker.read_text()) if args.keep and marker.exists() else None
        if kept is not None and kept["runs"] != args.runs:
            raise SystemExit(
                f"{workdir} holds {kept['runs']} seeded runs, not --runs {args.runs}: use another DIR"
            )
        engine = make_engine(url)
        upgrade(engine)
        store = RunStore(engine)
        ups = Uploads()
        if kept is None:
            runner = _runner(store, EMAIL)
            seed_s = seed(store, runner.id, templates, 0, args.runs, end)
            if args.keep:
                marker.write_text(json.dumps({"runs": args.runs, "end": end.isoformat()}))
            print(
                f"\n== {kind}: {args.runs} runs seeded in {seed_s:.0f} s ({1000 * seed_s / args.runs:.1f} ms per run)"
            )
        else:
            end = dt.datetime.fromisoformat(kept["end"])
            runner = store.runner_for_token(store.sign_in(EMAIL, PASSWORD))
            print(f"\n== {kind}: {args.runs} runs seeded before, kept in {workdir}")
        # the peer: a runner with the last 100 runs of the same history, in the same database and server
        small = min(SMALL_RUNS, args.runs)
        with contextlib.suppress(AuthError):  # none yet in a freshly seeded database
            store.delete_runner(store.runner_for_token(store.sign_in(EMAIL_SMALL, PASSWORD)).id)
        seed(store, _runner(store, EMAIL_SMALL).id, templates, args.runs - small, args.runs, end)
        sizes = _sizes(engine, kind, url)
        run_ids = [r.run_id for r in store.list_runs(runner.id, limit=200).runs]
        latest = [end]
        codes = [("baseline", args.baseline)] if args.baseline else []
        for code, src in [*codes, ("this", None)]:
            label = f"{kind}/{code}" if args.baseline else kind
            for workers in [int(w) for w in args.workers.split(",")]:
                with server(url, workers, src) as base:
                    headers = _token(base)

                    async def seq_all(
                        base: str = base,
                        headers: dict[str, str] = headers,
                        label: str = label,
                        workers: int = workers,
                    ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
                        out = await sequential(base, headers, run_ids, args.repeat)
                        async with (
                            httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as big,
                            httpx.AsyncClient(
                                base_url=base, headers=_token(base, EMAIL_SMALL), timeout=120
                            ) as few,
                        ):
                            clients = {"big": big, "small": few}
                            writes = await measure_uploads(clients, ups, latest, args.uploads)
                            deletes = await measure_deletes(clients, args.uploads)
                        for who in clients:
                            writes[who].update(deletes[who])
                        for name, xs in writes["big"].items():
                            if name.startswith("cpu "):
                                CPU[(base, name[4:])] = float(np.mean(xs))
                                SMALL_CPU[(label, workers, name[4:])] = 1000 * float(
                                    np.mean(writes["small"][name])
                                )
                            else:
                                out[name] = xs
                        return out, writes["small"]

                    seq, at_small = asyncio.run(seq_all())
                    conc, errors = asyncio.run(
                        concurrent(
                            base,
                            headers,
                            run_ids,
                            args.clients,
                            args.seconds,
                            ups,
                            end + dt.timedelta(days=900),
                        )
                    )
                    for name in [*seq, *(n for n in conc if n not in seq)]:
                        small_p95 = _p(at_small.get(name, []), 95)
                        rows.append(
                            (label, workers, name, _p(seq.get(name, []), 50), _p(seq.get(name, []), 95),
                             _p(conc.get(name, []), 95), small_p95, len(conc.get(name, [])),
                             1000 * CPU.get((base, name), float("nan")))
                        )  # fmt: skip
                    print(f"   {label} workers {workers}: {errors} errors under load")
                    for row in rows[-len(seq) - len(conc) :]:
                        print("   ", row, flush=True)
        print(
            f"   stored blobs {sizes['blob_per_run'] / 1000:.1f} kB per run, {sizes['blob_per_10km'] / 1000:.1f} kB "
            f"per 10 km run; database {sizes['db_bytes'] / 1e6:.0f} MB for {sizes['runs']} runs "
            f"({sizes['db_bytes'] / sizes['runs'] / 1000:.1f} kB per run)"
        )
        engine.dispose()
    return rows


def main() -> None:
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=40, help="sequential requests per route")
    ap.add_argument("--uploads", type=int, default=8, help="uploads of each kind, at 100 runs and at --runs")
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument(
        "--workers", default="1,2", help="server worker processes to measure, one after the other"
    )
    ap.add_argument("--upload-share", type=float, default=0.0, help="share of uploads in the concurrent load")
    ap.add_argument("--baseline", metavar="SRC", help="also measure the service of this source tree, first")
    ap.add_argument("--keep", metavar="DIR", help="keep the seeded SQLite database in DIR, and reuse it")
    ARGS = ap.parse_args()
    _memoise_packing()
    templates = [_template(k) for k in range(TEMPLATES)]
    rows = []
    for kind in ARGS.db.split(","):
        rows += bench(kind, ARGS, templates)
    print(
        f"\n{'db':20} {'wk':>2} {'route':22} {'p50':>7} {'p95':>7} {'p95 x' + str(ARGS.clients):>8} {'p95@100':>8}"
        f" {'cpu/req':>8}   (ms; cpu/req: the server's CPU time per sequential request)"
    )
    for kind, workers, name, p50, p95, c95, s95, n, cpu in rows:
        small = f"{s95:8.1f}" if s95 == s95 else " " * 8
        cpu_s = f"{cpu:8.1f}" if cpu == cpu else " " * 8
        small_cpu = SMALL_CPU.get((kind, workers, name))
        extra = "" if small_cpu is None else f"  cpu@100 {small_cpu:.0f} (x{cpu / small_cpu:.2f})"
        print(
            f"{kind:20} {workers:>2} {name:22} {p50:7.1f} {p95:7.1f} {c95:8.1f} {small} {cpu_s}   (n under load {n}){extra}"
        )


ARGS: argparse.Namespace
SERVER_PID: dict[str, int] = {}
#: (database, workers, route): the server's CPU per request for the runner with 100 runs
SMALL_CPU: dict[tuple[str, int, str], float] = {}
CPU: dict[tuple[str, str], float] = {}

if __name__ == "__main__":
    main()
