"""Bluetooth link on virtual controllers: stride latency, run-log sync throughput, forced disconnects.

    .venv/bin/python benchmarks/link.py [--minutes 30] [--speedup 30] [--disconnect-every 5] [--marathon-strides 17600]

1. Latency: a simulated run streamed by two shoes at real time; for every stride, the time from the firmware
   emitting it (the shoe has the stride) to the gateway receiving its notification, and from the stride's end
   in the signal (its mid-stance) to the gateway — the second includes the streaming engine's window.
2. Sync: one shoe holding a marathon's worth of strides; time and records/s for the gateway to sync it.
3. Chaos: a ``--minutes`` simulated run of two shoes at ``--speedup``, both links cut every
   ``--disconnect-every`` seconds; afterwards the server must hold every stride the shoes sent, once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.link.rig import Rig
from soleware.server.config import Settings
from soleware.server.local import serving
from soleware.shoe.runlog import FileFlash, RunLog, Stride
from soleware.shoe.sim import simulate

EMAIL, PASSWORD = "bench@example.com", "benchmark password"


def run_service(tmp: Path):
    return serving(Settings(database_url=f"sqlite:///{tmp / 'service.db'}"), runner=(EMAIL, PASSWORD))


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q))


async def latency(tmp: Path, plan: str) -> None:
    recs = simulate(plan, seed=5)
    async with Rig(tmp, None) as rig:
        shoes = {s: rig.start_shoe(s, recs[s], 1.0) for s in ("left", "right")}
        gw = await rig.start_gateway()
        await rig.until(lambda: all(s.done.is_set() for s in shoes.values()), 3600, "the run")
        await asyncio.sleep(1.0)
        transport, total = [], []
        for side, shoe in shoes.items():
            sent = dict(shoe.stats.stride_sent_at)
            start_wall = shoe.stats.replay_started_at
            ends = dict(shoe.stats.stride_end_s)
            for seq, arrived in gw.feet[side].stride_arrivals:
                if seq in sent:
                    transport.append(arrived - sent[seq])
                    total.append(arrived - (start_wall + ends[seq] / shoe.speedup))
    print(f"latency, {plan!r} at real time, {len(transport)} strides of two shoes:")
    print(
        f"  firmware emits stride -> gateway: median {_pct(transport, 50):.1f} ms, p99 {_pct(transport, 99):.1f} ms"
    )
    print(
        f"  stride's end in the signal -> gateway: median {_pct(total, 50):.0f} ms, p99 {_pct(total, 99):.0f} ms"
    )


async def sync_throughput(tmp: Path, strides: int) -> None:
    flash = FileFlash.create(tmp / "left.img")
    log = RunLog.open(flash)
    log.start_run(start_unix_ms=1_780_000_000_000, side="left")
    t = 0.0
    for _ in range(strides):
        t += 0.72
        stride = GaitStride(
            t_start_s=t - 0.72, t_end_s=t, length_m=2.4, speed_mps=3.3, cadence_spm=166, contact_time_s=0.22,
            flight_time_s=0.12, strike_angle_deg=5.0, strike_type=StrikeType.REARFOOT, impact_mps2=100.0,
            gait=Gait.RUN,
        )  # fmt: skip
        log.append_stride(stride)
    log.end_run(distance_m=2.4 * strides, moving_s=t, elapsed_s=t)
    flash.close()
    async with Rig(tmp, None) as rig:
        rig.start_shoe("left")
        gw = await rig.start_gateway(shoes=1)
        await rig.until(
            lambda: "left" in gw.feet and gw.feet["left"].link in ("connected", "syncing"), 60, "link"
        )
        t0 = time.monotonic()
        await rig.until(
            lambda: sum(len(s.records) for s in gw.stores.values()) >= strides + 2, 600, "the sync"
        )
        dt_s = time.monotonic() - t0
    print(
        f"sync: a marathon's worth ({strides} strides, {(strides * Stride.frame_size() + 80) / 1024:.0f} KiB of records) in {dt_s:.1f} s "
        f"= {(strides + 2) / dt_s:.0f} records/s"
    )


async def chaos(tmp: Path, minutes: float, speedup: float, every_s: float) -> None:
    recs = simulate(f"{minutes:g}min@5:00/km", seed=7)
    async with run_service(tmp) as url, Rig(tmp, url, email=EMAIL, password=PASSWORD) as rig:
        shoes = {s: rig.start_shoe(s, recs[s], speedup) for s in ("left", "right")}
        gw = await rig.start_gateway(sync_interval_s=0.5)
        cuts = 0
        rng = random.Random(1)

        async def cutter() -> None:
            nonlocal cuts
            while True:
                await asyncio.sleep(every_s * (0.5 + rng.random()))
                for shoe in shoes.values():
                    if shoe.device is not None:
                        for conn in list(shoe.device.connections.values()):
                            with contextlib.suppress(Exception):
                                await conn.disconnect()
                            cuts += 1

        task = asyncio.create_task(cutter())
        t0 = time.monotonic()
        await rig.until(lambda: all(s.done.is_set() for s in shoes.values()), 3600, "the run")
        task.cancel()
        await rig.until(lambda: gw.settled(1), 300, "the upload")
        wall = time.monotonic() - t0
        async with httpx.AsyncClient(base_url=url) as c:
            token = (await c.post("/api/auth/signin", json={"email": EMAIL, "password": PASSWORD})).json()[
                "access_token"
            ]
            h = {"Authorization": f"Bearer {token}"}
            runs = (await c.get("/api/runs", headers=h)).json()["runs"]
            detail = (await c.get(f"/api/runs/{runs[0]['id']}", headers=h)).json()
        stored = {f["side"]: f["strides"] for f in detail["feet"]}
        sent = {s: shoe.stats.strides_sent for s, shoe in shoes.items()}
        lost = {s: sent[s] - stored.get(s, 0) for s in sent}
        print(
            f"chaos: {minutes:g}-min run at {speedup:g}x ({wall:.0f} s), links cut {cuts} times "
            f"(every ~{every_s:g} s), reconnects {sum(f.reconnects for f in gw.feet.values())}"
        )
        print(
            f"  runs on the server: {len(runs)}; strides sent {sent}, stored {stored}; lost/duplicated {lost}"
        )
        print(
            "  OK: zero strides lost or duplicated"
            if len(runs) == 1 and not any(lost.values())
            else "  MISMATCH"
        )


def main() -> None:
    # cut links make Bumble log every notification it can no longer deliver; that is expected here
    logging.getLogger("bumble").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency-plan", default="1min@5:00/km")
    ap.add_argument("--marathon-strides", type=int, default=17_600)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--speedup", type=float, default=30.0)
    ap.add_argument("--disconnect-every", type=float, default=5.0)
    args = ap.parse_args()
    for part in (
        lambda d: latency(d, args.latency_plan),
        lambda d: sync_throughput(d, args.marathon_strides),
        lambda d: chaos(d, args.minutes, args.speedup, args.disconnect_every),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(part(Path(tmp)))


if __name__ == "__main__":
    main()
