"""``soleware gateway rejected list|resend`` against a run service on loopback."""

from __future__ import annotations

import asyncio
import queue
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.pipeline import Stride as GaitStride
from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.link.gateway import RejectedRun, rejected_runs, run_upload_body, runs_in
from soleware.server.config import Settings
from soleware.server.local import serving
from soleware.shoe.runlog import MemoryFlash, RunLog

EMAIL, PASSWORD = "runner@example.com", "run run run run"
START_MS = 1_780_000_000_000


@pytest.fixture
def run_service(tmp_path):
    """The run service in a thread of its own (the CLI runs its own event loop), with one runner."""
    urls: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}")
        async with serving(settings, runner=(EMAIL, PASSWORD)) as url:
            urls.put(url)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    try:
        yield urls.get(timeout=60)
    finally:
        stop.set()
        thread.join(30)


def records(*, side: str, strides: int, bad_stride: int | None = None) -> dict[int, bytes]:
    """A shoe's records of one run, as the gateway received them (``bad_stride`` is 7.5 m long)."""
    log = RunLog.open(MemoryFlash())
    log.start_run(start_unix_ms=START_MS, side=side)
    for i in range(strides):
        log.append_stride(
            GaitStride(
                t_start_s=0.7 * i,
                t_end_s=0.7 * (i + 1),
                length_m=7.5 if i == bad_stride else 2.1,
                speed_mps=3.0,
                cadence_spm=170.0,
                contact_time_s=0.24,
                flight_time_s=0.1,
                strike_angle_deg=4.0,
                strike_type=StrikeType.MIDFOOT,
                impact_mps2=80.0,
                gait=Gait.RUN,
            )
        )
    log.end_run(distance_m=0.0, moving_s=0.7 * strides, elapsed_s=0.7 * strides)
    return {r.seq: bytes(r) for r in log.read_from(0, 10_000)}


def keep(
    state_dir: Path, serial: str, recs: dict[int, bytes], reason: str, *, with_body: bool
) -> RejectedRun:
    """A refused run in the gateway's folder; without ``with_body`` as gateways wrote them before bodies were kept."""
    (run_id,) = runs_in(recs)
    path = state_dir / "rejected" / f"{serial}-run{run_id}.json"
    kept = RejectedRun(path, serial, run_id, reason, recs, key=f"{serial}:{run_id}")
    if with_body:
        side = Side.LEFT if "-L-" in serial else Side.RIGHT
        kept.body = run_upload_body(
            {side: (serial, runs_in(recs)[run_id])}, time_zone="Europe/London"
        ).to_json()
    kept.save()
    return kept


def test_refused_runs_are_listed_and_sent_again(tmp_path, run_service):
    state = tmp_path / "gateway"
    good = keep(state, "SW-L-0001", records(side="left", strides=120), "422 an older check", with_body=False)
    bad = keep(
        state,
        "SW-R-0001",
        records(side="right", strides=120, bad_stride=31),
        "422 strides.31",
        with_body=True,
    )
    cli = CliRunner()
    listed = cli.invoke(app, ["gateway", "rejected", "list", "--state-dir", str(state)])
    assert listed.exit_code == 0, listed.output
    assert good.name in listed.output and bad.name in listed.output and "not yet" in listed.output
    assert "120" in listed.output

    args = ["--server", run_service, "--email", EMAIL, "--password", PASSWORD, "--state-dir", str(state)]
    sent = cli.invoke(app, ["gateway", "rejected", "resend", *args, "--time-zone", "Europe/London"])
    assert sent.exit_code == 1, sent.output  # one was refused again
    assert f"{good.key}: stored as run " in sent.output
    assert (
        f"{bad.key}: refused again: 422 strides.31.length_m: " in sent.output and "(got 7.5)" in sent.output
    )
    left = rejected_runs(state)
    assert [r.name for r in left] == [bad.name]
    assert left[0].reported and "(got 7.5)" in left[0].reason

    headers = {"Authorization": "Bearer " + _token(run_service)}
    runs = httpx.get(f"{run_service}/api/runs", headers=headers).json()["runs"]
    assert (
        len(runs) == 1
        and runs[0]["time_zone"] == "Europe/London"
        and runs[0]["shoe_serials"] == ["SW-L-0001"]
    )
    refused = httpx.get(f"{run_service}/api/refused-uploads", headers=headers).json()["refused"]
    assert [u["key"] for u in refused] == [bad.key] and refused[0]["strides"] == 120

    again = cli.invoke(app, ["gateway", "rejected", "resend", bad.name, *args])
    assert again.exit_code == 1 and "refused again" in again.output
    assert cli.invoke(app, ["gateway", "rejected", "resend", "nonsense", *args]).exit_code == 2


def _token(url: str) -> str:
    r = httpx.post(f"{url}/api/auth/signin", json={"email": EMAIL, "password": PASSWORD})
    return r.json()["access_token"]
