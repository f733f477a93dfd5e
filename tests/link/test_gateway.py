"""Shoes, gateway and run service together over virtual controllers: no run lost, none duplicated."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from pathlib import Path
from typing import Any, cast

import pytest
from bumble.device import Peer

from soleware.gait import Gait, Side, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.link.gateway import FootState, Gateway, ServerClient, SyncStore, laps_between, run_upload_body
from soleware.link.rig import Rig
from soleware.link.rsc import RscMeasurement
from soleware.server.config import Settings
from soleware.server.local import serving
from soleware.server.schemas import UPLOADED_STRIDE, LiveUpdate
from soleware.shoe.runlog import FileFlash, RunLog
from soleware.shoe.sim import simulate

EMAIL, PASSWORD = "runner@example.com", "run run run run"
START_MS = 1_780_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_service(tmp_path: Path):
    """The run service on loopback in this event loop, with one runner signed up."""
    return serving(Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}"), runner=(EMAIL, PASSWORD))


async def server_runs(url: str) -> list[dict]:
    client = ServerClient(url, email=EMAIL, password=PASSWORD)
    try:
        runs = (await client._request("GET", "/api/runs?limit=200")).json()["runs"]
        return [(await client._request("GET", f"/api/runs/{r['id']}")).json() for r in runs]
    finally:
        await client.close()


def write_log(
    path: Path,
    *,
    side: str,
    strides: int,
    start_ms: int = START_MS,
    seed: int = 0,
    bad_stride: int | None = None,
) -> RunLog:
    """A shoe's flash holding one complete run of ``strides`` strides (what a shoe has after a run).

    With ``bad_stride`` that stride is 7.5 m long, more than any runner's (a faulty shoe).
    """
    rng = random.Random(seed)
    flash = FileFlash.create(path)
    log = RunLog.open(flash)
    log.start_run(start_unix_ms=start_ms, side=side)
    t = 0.0
    for i in range(strides):
        duration = 0.7 + 0.02 * rng.random()
        t += duration
        length = 7.5 if i == bad_stride else 2.2 + 0.1 * rng.random()
        stride = GaitStride(
            t_start_s=t - duration,
            t_end_s=t,
            length_m=length,
            speed_mps=length / duration,
            cadence_spm=120 / duration,
            contact_time_s=0.24,
            flight_time_s=0.1,
            strike_angle_deg=4.0,
            strike_type=StrikeType.MIDFOOT,
            impact_mps2=80.0,
            gait=Gait.RUN,
        )
        log.append_stride(stride)
    log.end_run(distance_m=0.0, moving_s=t, elapsed_s=t)
    flash.close()
    return log


def assert_one_complete_run(runs: list[dict], *, left: int, right: int) -> None:
    assert len(runs) == 1
    feet = {f["side"]: f["strides"] for f in runs[0]["feet"]}
    assert feet == {side: n for side, n in (("left", left), ("right", right)) if n}


def shoe_acknowledged(path: Path) -> bool:
    flash = FileFlash(path, readonly=True)
    try:
        return all(r.acknowledged for r in RunLog.open(flash, repair=False).runs())
    finally:
        flash.close()


async def test_a_simulated_run_reaches_the_server_with_every_stride(tmp_path):
    recs = simulate("90s@5:00/km", seed=3)
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        # The phone is on before the shoes, and the replay (9 s) outlasts connecting on a loaded machine, so
        # strides arrive live as well as through the log.
        gw = await rig.start_gateway(single_foot_after_s=60)
        left, right = rig.start_shoe("left", recs["left"], 10), rig.start_shoe("right", recs["right"], 10)
        await rig.until(lambda: gw.settled(1), 60, "the run to be uploaded and acknowledged")
        logged = {s.side: s.stats.strides_sent for s in (left, right)}
        runs = await server_runs(url)
        assert_one_complete_run(runs, **logged)
        truth = recs["left"].ground_truth.distance_m
        assert runs[0]["distance_m"] == pytest.approx(truth, rel=0.02)
        assert gw.feet["left"].strides_seen > 0 and gw.feet["right"].battery_pct is not None
    assert shoe_acknowledged(tmp_path / "left.img") and shoe_acknowledged(tmp_path / "right.img")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_disconnects_at_random_moments_of_a_sync_lose_and_duplicate_nothing(
    tmp_path, seed, monkeypatch
):
    write_log(tmp_path / "left.img", side="left", strides=900, seed=seed)
    write_log(tmp_path / "right.img", side="right", strides=880, start_ms=START_MS + 350, seed=seed + 10)
    rng = random.Random(seed)
    cuts = {"left": sorted(rng.sample(range(1, 900), 3)), "right": sorted(rng.sample(range(1, 880), 3))}
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        rig.start_shoe("left"), rig.start_shoe("right")
        original_add = SyncStore.add

        def add(store: SyncStore, seq: int, payload: bytes) -> None:
            original_add(store, seq, payload)
            side = "left" if "-L-" in store.path.name else "right"
            if cuts[side] and len(store.records) >= cuts[side][0]:
                cuts[side].pop(0)
                for conn in list(rig.shoes[side].device.connections.values()):
                    asyncio.get_running_loop().create_task(conn.disconnect())

        monkeypatch.setattr(SyncStore, "add", add)
        gw = await rig.start_gateway(sync_interval_s=0.3)
        await rig.until(lambda: gw.settled(1), 90, "the run to be uploaded and acknowledged")
        assert not cuts["left"] and not cuts["right"], "every planned disconnect happened"
        assert gw.feet["left"].reconnects >= 3 and gw.feet["right"].reconnects >= 3
        assert_one_complete_run(await server_runs(url), left=900, right=880)


async def test_a_shoe_restarting_mid_sync_loses_nothing(tmp_path, monkeypatch):
    write_log(tmp_path / "left.img", side="left", strides=1200)
    write_log(tmp_path / "right.img", side="right", strides=1200, start_ms=START_MS + 300)
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        rig.start_shoe("left"), rig.start_shoe("right")
        restarted = asyncio.Event()
        original_add = SyncStore.add

        def add(store: SyncStore, seq: int, payload: bytes) -> None:
            original_add(store, seq, payload)
            if "-L-" in store.path.name and len(store.records) == 500 and not restarted.is_set():
                restarted.set()

                async def power_cycle() -> None:
                    await rig.stop_shoe("left")  # the shoe's controller goes down with it
                    await asyncio.sleep(0.5)
                    rig.start_shoe("left")

                asyncio.get_running_loop().create_task(power_cycle())

        monkeypatch.setattr(SyncStore, "add", add)
        gw = await rig.start_gateway(sync_interval_s=0.3)
        await rig.until(lambda: gw.settled(1), 90, "the run to be uploaded and acknowledged")
        assert restarted.is_set()
        assert_one_complete_run(await server_runs(url), left=1200, right=1200)


async def test_a_gateway_restarting_mid_sync_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    write_log(tmp_path / "left.img", side="left", strides=1500)
    write_log(tmp_path / "right.img", side="right", strides=1500, start_ms=START_MS + 300)
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        rig.start_shoe("left"), rig.start_shoe("right")
        gw = await rig.start_gateway(sync_interval_s=0.3)
        await rig.until(lambda: sum(len(s.records) for s in gw.stores.values()) >= 700, 60, "half a sync")
        await rig.stop_gateway()  # the phone app is killed mid-sync
        held = {
            k: len(SyncStore(p).records)
            for k, p in ((p.stem, p) for p in (tmp_path / "gw" / "sync").glob("*.json"))
        }
        assert sum(held.values()) > 0
        gw = await rig.start_gateway(sync_interval_s=0.3)
        await rig.until(lambda: gw.settled(1), 90, "the run to be uploaded and acknowledged")
        assert_one_complete_run(await server_runs(url), left=1500, right=1500)


async def test_a_foot_synced_late_joins_the_run_stored_without_it(tmp_path):
    """The right shoe comes in range only after the left's run was stored alone: its run is added to that run
    (one run, both feet), not stored as a second one."""
    write_log(tmp_path / "left.img", side="left", strides=300)
    write_log(tmp_path / "right.img", side="right", strides=300, start_ms=START_MS + 300)
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        rig.start_shoe("left")
        gw = await rig.start_gateway(single_foot_after_s=1.0)
        await rig.until(lambda: gw.settled(1), 60, "the left foot's run to be stored alone")
        assert [f["side"] for f in (await server_runs(url))[0]["feet"]] == ["left"]
        rig.start_shoe("right")
        await rig.until(lambda: gw.settled(2), 60, "the right foot's run to be added")
        assert gw.uploads[1]["merged"] and gw.uploads[1]["run_id"] == gw.uploads[0]["run_id"]
        assert_one_complete_run(await server_runs(url), left=300, right=300)
    assert shoe_acknowledged(tmp_path / "left.img") and shoe_acknowledged(tmp_path / "right.img")


def test_the_live_update_carries_the_lap_being_run(tmp_path):
    """Pages following the run (``/live``) see the lap the runner pressed at the gateway; nothing before a press."""
    gw = Gateway(None, state_dir=tmp_path)  # type: ignore[arg-type]  (live values only, no radio)
    for side in ("left", "right"):
        gw.feet[side] = FootState(side=side, serial=f"SW-{side[0].upper()}", link="connected")
        gw.feet[side].rsc = RscMeasurement(speed_mps=3.0, cadence_spm=170, total_distance_m=900.0)
    update = gw.live_update()
    assert update is not None and "lap" not in update
    gw.mark_lap(at_unix_s=time.time() - 75.0)
    gw.mark_lap(at_unix_s=time.time() - 65.0)
    update = gw.live_update()
    assert update is not None and update["lap"]["n"] == 3
    assert update["lap"]["t_s"] == pytest.approx(65.0, abs=1.0)
    assert LiveUpdate.model_validate(update).lap is not None  # as the service takes it


def test_laps_between_presses() -> None:
    """One lap more than the presses inside the run, from its start to its end; presses outside it mark nothing."""
    assert laps_between([], 100.0) == [] and laps_between([-5.0, 100.0, 130.0], 100.0) == []
    assert laps_between([70.0, -3.0, 30.0, 250.0], 100.0) == [
        {"t_start_s": 0.0, "t_end_s": 30.0, "name": ""},
        {"t_start_s": 30.0, "t_end_s": 70.0, "name": ""},
        {"t_start_s": 70.0, "t_end_s": 100.0, "name": ""},
    ]


async def test_lap_presses_kept_across_a_restart_go_up_with_the_run_they_fall_in(tmp_path):
    """Presses are times of day in the state directory (written before anything else), so a gateway restarted
    mid-run still has them; the run takes those that fell inside it, and one from another day is left out."""
    write_log(tmp_path / "right.img", side="right", strides=300)  # about 216 s from START_MS
    t0 = START_MS / 1000
    presses = [t0 - 86000.0, t0 + 60.0, t0 + 150.5]
    (tmp_path / "gw").mkdir()
    (tmp_path / "gw" / "laps.json").write_text(json.dumps({"marks_unix_s": presses}))
    async with one_shoe(tmp_path, "right") as (url, rig, gw):
        assert gw.lap_marks_unix_s == presses
        await rig.until(lambda: gw.settled(1), 60, "the run to be uploaded")
        runs = await server_runs(url)
    assert len(runs) == 1
    run = runs[0]
    assert [(lap["t_start_s"], lap["t_end_s"]) for lap in run["laps"]] == [
        (0.0, 60.0),
        (60.0, 150.5),
        (150.5, pytest.approx(run["elapsed_time_s"])),
    ]
    assert [round(lap["time_s"]) for lap in run["lap_splits"]] == [
        60,
        90,
        round(run["elapsed_time_s"] - 150.5),
    ]


def test_a_press_is_on_disk_before_mark_lap_returns(tmp_path):
    gw = Gateway(cast(Any, None), state_dir=tmp_path)
    gw.mark_lap(at_unix_s=1000.0)
    gw.mark_lap(at_unix_s=1000.0 + 3 * 86400)  # the first is two days old by then: forgotten
    assert json.loads((tmp_path / "laps.json").read_text())["marks_unix_s"] == [1000.0 + 3 * 86400]
    (tmp_path / "laps.json").write_text("{not json")
    assert Gateway(cast(Any, None), state_dir=tmp_path).lap_marks_unix_s == []  # said in the log, not fatal


@contextlib.asynccontextmanager
async def one_shoe(tmp_path: Path, side: str):
    """The run service, and a gateway for the one shoe whose log is ``<side>.img``: yields (url, rig, gateway)."""
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        rig.start_shoe(side)
        yield url, rig, await rig.start_gateway(shoes=1)


async def test_one_shoe_is_enough(tmp_path):
    write_log(tmp_path / "right.img", side="right", strides=300)
    async with one_shoe(tmp_path, "right") as (url, rig, gw):
        await rig.until(lambda: gw.settled(1), 60, "the run to be uploaded")
        runs = await server_runs(url)
        assert len(runs) == 1 and [f["side"] for f in runs[0]["feet"]] == ["right"]
    assert shoe_acknowledged(tmp_path / "right.img")


async def test_a_link_dropping_while_being_set_up_is_retried(tmp_path, monkeypatch):
    """Bumble aborts a connection's pending discovery with CancelledError when the link drops; that must not end
    the gateway's work for the shoe (it did: the shoe was never reconnected)."""
    write_log(tmp_path / "right.img", side="right", strides=300)
    original = Peer.discover_services
    aborted: list[int] = []

    async def discover_services(peer: Peer, *args, **kwargs):
        if len(aborted) < 2:
            aborted.append(1)
            raise asyncio.CancelledError("abort: disconnection event occurred.")
        return await original(peer, *args, **kwargs)

    monkeypatch.setattr(Peer, "discover_services", discover_services)
    async with one_shoe(tmp_path, "right") as (url, rig, gw):
        await rig.until(lambda: gw.settled(1), 60, "the run to be uploaded")
        assert len(aborted) == 2 and gw.feet["right"].reconnects == 2
        assert_one_complete_run(await server_runs(url), left=0, right=300)


async def test_a_run_the_server_refuses_is_kept_and_not_retried(tmp_path):
    """A run the service rejects for good (422) is kept by the gateway with the reason, every record as the shoe
    sent it, before the shoe may erase it; the gateway goes on instead of retrying the same body for ever."""
    write_log(tmp_path / "left.img", side="left", strides=200, bad_stride=31)
    async with one_shoe(tmp_path, "left") as (url, rig, gw):
        await rig.until(lambda: gw.settled(1), 60, "the run to be refused")
        await asyncio.sleep(0.5)
        assert gw.uploads == [] and len(gw.rejections) == 1
        assert gw.rejections[0].startswith("422 strides.31.length_m: ") and "(got 7.5)" in gw.rejections[0]
        assert await server_runs(url) == []
        client = ServerClient(url, email=EMAIL, password=PASSWORD)
        try:
            refused = (await client._request("GET", "/api/refused-uploads")).json()["refused"]
        finally:
            await client.close()
        assert [(u["reason"], u["strides"], u["key"]) for u in refused] == [
            (gw.rejections[0], 200, "SW-L-T:1")
        ]
    store = next(SyncStore(p) for p in (tmp_path / "gw" / "sync").glob("*.json"))
    assert len(store.rejected) == 1
    kept = json.loads(next((tmp_path / "gw" / "rejected").glob("*.json")).read_text())
    assert kept["reason"] == gw.rejections[0] and len(kept["records"]) == 202
    assert kept["reported"] and len(kept["body"]["strides"]) == 200
    assert shoe_acknowledged(tmp_path / "left.img")


async def test_without_a_server_nothing_is_acknowledged(tmp_path):
    write_log(tmp_path / "left.img", side="left", strides=200)
    async with Rig(tmp_path, None, boot_unix_ms=START_MS) as rig:
        rig.start_shoe("left")
        gw = await rig.start_gateway(shoes=1)
        await rig.until(lambda: sum(len(s.records) for s in gw.stores.values()) == 202, 30, "the sync")
        await asyncio.sleep(0.5)
        assert gw.uploads == []
    assert not shoe_acknowledged(tmp_path / "left.img")


async def test_any_standard_rsc_sensor_works_as_a_foot_pod(tmp_path):
    """A foot pod (RSC only, no Soleware service, no pairing) recorded with ``pod=``: live values, nothing to sync
    (a pod written for the tests, not with our service classes: tests/link/test_gateway_pod.py)."""
    from bumble.core import UUID, AdvertisingData
    from bumble.device import Device
    from bumble.hci import Address
    from bumble.transport import open_transport

    from soleware.link.rsc import RscMeasurement, RunningSpeedAndCadenceService

    async with Rig(tmp_path, None) as rig:
        rsc = RunningSpeedAndCadenceService()
        async with await open_transport(rig.radio.transports[0]) as (source, sink):
            pod = Device.with_hci(
                "Pod", Address("C1:22:33:44:55:66", Address.RANDOM_DEVICE_ADDRESS), source, sink
            )
            pod.add_service(rsc)
            await pod.power_on()
            adv = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        UUID.from_16_bits(0x1814).to_bytes(),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, b"Foot pod 3000"),
                ]
            )
            await pod.start_advertising(advertising_data=bytes(adv), auto_restart=True)
            subscribed = asyncio.Event()
            rsc.rsc_measurement_characteristic.on(
                "subscription", lambda _c, notify, _i: notify and subscribed.set()
            )
            gw = await rig.start_gateway(pod="Foot pod 3000")
            await rig.until(subscribed.is_set, 30, "the pod to be connected and subscribed to")
            for k in range(20):
                m = RscMeasurement(
                    speed_mps=3.0,
                    cadence_spm=170,
                    stride_length_m=1.1,
                    total_distance_m=0.2 * k,  # whole decimetres, as the wire carries them
                    is_running=True,
                )
                await rsc.notify_measurement(pod, m)
                await asyncio.sleep(0.05)
            await rig.until(
                lambda: gw.pod_state is not None and len(gw.pod_state.recorder) == 20, 10, "values"
            )
            live = gw.live_update()
            assert live is not None and live["distance_m"] == pytest.approx(19 * 0.2, abs=1e-6)
            assert live["speed_mps"] == pytest.approx(3.0, abs=0.01) and live["cadence_spm"] == 170
            assert gw.pod_state is not None and gw.pod_state.name == "Foot pod 3000"
            assert gw.feet == {} and gw.stores == {}
            await rig.stop_gateway()


async def test_a_shoe_that_stops_answering_mid_run_is_synced_whole_afterwards(tmp_path, monkeypatch):
    """Issue 18.2: the shoe's HCI traffic stalls longer than the gateway waits for an answer while it records a
    run. The gateway gives up on the link and disconnects; the shoe advertises again, is reconnected, and the
    whole log reaches the server, nothing lost, nothing doubled."""
    from soleware.link import central

    monkeypatch.setattr(central, "OPERATION_TIMEOUT_S", 2.0)
    recs = simulate("3min@5:00/km", seed=5)
    async with (
        run_service(tmp_path) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD, boot_unix_ms=START_MS) as rig,
    ):
        relay = await rig.relay("left")
        shoe = rig.start_shoe("left", recs["left"], 10)
        gw = await rig.start_gateway(shoes=1, sync_interval_s=0.3)
        await rig.until(lambda: sum(len(s.records) for s in gw.stores.values()) >= 20, 30, "part of the run")
        assert gw.feet["left"].reconnects == 0
        await relay.stall(2 * central.OPERATION_TIMEOUT_S)
        assert not shoe.done.is_set(), "the stall happened mid-run"
        await rig.until(lambda: gw.feet["left"].reconnects >= 1, 10, "the gateway to give the link up")
        await rig.until(lambda: gw.settled(1), 60, "the run to be uploaded and acknowledged")
        assert gw.feet["left"].link == "connected"
        runs = await server_runs(url)
        assert len(runs) == 1 and {f["side"]: f["strides"] for f in runs[0]["feet"]} == {
            "left": shoe.stats.strides_sent
        }


async def test_a_shoe_away_does_not_hold_back_the_other(tmp_path):
    """Issue 18.3: both shoes go away; the left comes back at once, the right only much later. The left is
    connected and streaming strides while the right is still away, not after a connection attempt to it."""
    write_log(tmp_path / "right.img", side="right", strides=50)
    write_log(tmp_path / "left.img", side="left", strides=50)
    recs = simulate("2min@5:00/km", seed=4)
    async with Rig(tmp_path, None, boot_unix_ms=START_MS) as rig:
        rig.start_shoe("left"), rig.start_shoe("right")
        gw = await rig.start_gateway(sync_interval_s=0.3)
        both = ("left", "right")
        await rig.until(
            lambda: all(gw.feet.get(s) and gw.links.get(gw.feet[s].serial) for s in both), 30, "both"
        )
        await rig.stop_shoe("left"), await rig.stop_shoe("right")
        await rig.until(lambda: not gw.links, 10, "both links to drop")
        await asyncio.sleep(1.0)
        back = asyncio.get_running_loop().time()
        rig.start_shoe("left", recs["left"], 10)
        await rig.until(lambda: gw.feet["left"].strides_seen > 0, 20, "strides from the left shoe")
        # 2.5 s on a loaded CI machine; waiting out a connection attempt to the right shoe took over 10 s
        assert asyncio.get_running_loop().time() - back < 6.0
        assert gw.feet["right"].link != "connected"
        rig.start_shoe("right")
        await rig.until(lambda: gw.feet["right"].link == "connected", 20, "the right shoe to be back")


def _store_of(tmp_path: Path, log: RunLog, name: str) -> SyncStore:
    store = SyncStore(tmp_path / f"{name}.json")
    for rec in log.records():
        if rec.is_data:
            store.add(rec.seq, bytes(rec))
    return store


def test_every_logged_stride_of_a_run_ending_in_a_rest_passes_the_services_check(tmp_path: Path) -> None:
    """Eight minutes at 5:00/km that end with the foot settling into a rest (its last "stride" moves 8 mm). Its
    motion lasts a quarter of a second: taken as its cadence, 500 steps/min, over the service's 400, and the
    whole logged run was refused (422). The body the gateway builds from the shoes' logs is what the service
    accepts, stride by stride."""
    from soleware.shoe.firmware import Firmware

    feet = {}
    for i, (side, rec) in enumerate(simulate("8min@5:00/km", seed=7).items()):
        flash = FileFlash.create(tmp_path / f"{side}.img", 512 * 1024)
        log = RunLog.open(flash)
        fw = Firmware(
            side=side, sample_rate_hz=rec.sample_rate_hz, run_log=log, boot_unix_ms=START_MS + 350 * i
        )
        list(fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps))
        fw.finish()
        feet[Side(side)] = (f"SW-{side}", _store_of(tmp_path, log, side).runs()[1])
        flash.close()
    body = run_upload_body(feet, time_zone="UTC").to_json()
    strides = [UPLOADED_STRIDE.validate_python(s) for s in body["strides"]]
    assert len(strides) > 2 * 600
    assert max(s.cadence_spm or 0.0 for s in strides) <= 240.0  # a sprint's at most


def test_upload_body_takes_each_strides_start_from_the_log(tmp_path: Path) -> None:
    """Firmware 0.3 logs the stride's start: the body carries it as logged, not rebuilt from cadence."""
    flash = FileFlash.create(tmp_path / "new.img", 64 * 1024)
    log = RunLog.open(flash)
    log.start_run(start_unix_ms=START_MS, side="right")
    spans = [(0.5, 1.2), (1.2, 1.95), (3.0, 3.7)]  # a pause between the 2nd and 3rd stride
    for t0, t1 in spans:
        s = GaitStride(
            t_start_s=100 + t0, t_end_s=100 + t1, length_m=2.0, speed_mps=2.0 / (t1 - t0), cadence_spm=99.0,
            contact_time_s=0.3, flight_time_s=0.05, strike_angle_deg=float("nan"), strike_type=None,
            impact_mps2=98.0665, gait=Gait.RUN,
        )  # fmt: skip
        assert log.append_stride(s, t0_s=100)
    log.end_run(distance_m=6.0, moving_s=2.1, elapsed_s=3.7)
    run = _store_of(tmp_path, log, "right").runs()[1]
    flash.close()
    body = run_upload_body({Side.RIGHT: ("SW-R", run)}, time_zone="UTC")
    assert [t for s in body.strides for t in (s.t_start_s, s.t_end_s)] == pytest.approx(
        [t for sp in spans for t in sp]
    )
    assert {s.side for s in body.strides} == {Side.RIGHT}
    assert body.strides[0].impact_g == pytest.approx(10.0, abs=0.01) and body.strides[0].strike_type is None
    j = body.to_json()
    assert j["strides"][0]["side"] == "right" and j["strides"][0]["gait"] == "run"
    assert json.loads(json.dumps(j)) == j


def test_a_logged_contact_time_of_0_ms_uploads_as_unknown(tmp_path: Path) -> None:
    """A foot's first stride leaves a stance that began before the run: the engine could not measure its contact
    time (NaN), the shoe logs 0 ms, and the body carries null (unknown) for it, not 0 s, which the run service
    takes. A real 1 ms stays 0.001; a walking stride's flight time of 0 ms stays 0 s (walking has no flight)."""
    flash = FileFlash.create(tmp_path / "first.img", 64 * 1024)
    log = RunLog.open(flash)
    log.start_run(start_unix_ms=START_MS, side="left")
    for i, (contact, flight, gait) in enumerate(
        [(float("nan"), 0.1, Gait.RUN), (0.001, 0.1, Gait.RUN), (0.6, 0.0, Gait.WALK)]
    ):
        s = GaitStride(
            t_start_s=0.7 * i, t_end_s=0.7 * (i + 1), length_m=2.0, speed_mps=2.0 / 0.7, cadence_spm=171.4,
            contact_time_s=contact, flight_time_s=flight, strike_angle_deg=4.0, strike_type=StrikeType.MIDFOOT,
            impact_mps2=80.0, gait=gait,
        )  # fmt: skip
        assert log.append_stride(s)
    log.end_run(distance_m=6.0, moving_s=2.1, elapsed_s=2.1)
    run = _store_of(tmp_path, log, "left").runs()[1]
    flash.close()
    assert [rec.contact_ms for rec in run.strides] == [0, 1, 600]
    j = run_upload_body({Side.LEFT: ("SW-L", run)}, time_zone="UTC").to_json()
    strides = json.loads(json.dumps(j, allow_nan=False))["strides"]
    assert [s["contact_time_s"] for s in strides] == [None, 0.001, 0.6]
    assert [s["flight_time_s"] for s in strides] == [0.1, 0.1, 0.0]
    assert [UPLOADED_STRIDE.validate_python(s).contact_time_s for s in strides] == [None, 0.001, 0.6]


def test_upload_body_of_an_old_firmwares_log_rebuilds_starts_from_cadence(tmp_path: Path) -> None:
    """A log of firmware 0.2 (stride records without a start) still uploads: each stride starts its cadence's
    duration before its end, never before the previous stride's end."""
    image = tmp_path / "old.img"
    image.write_bytes((Path(__file__).parents[1] / "shoe" / "data" / "runlog_v1.img").read_bytes())
    with FileFlash(image, page_size=1024) as flash:
        run = _store_of(tmp_path, RunLog.open(flash), "old").runs()[1]
    assert run.complete and len(run.strides) == 60 and all(s.t_start_ms is None for s in run.strides)
    body = run_upload_body({Side.LEFT: ("SW-OLD", run)}, time_zone="UTC")
    assert len(body.strides) == 60
    prev_end = 0.0
    for s, rec in zip(body.strides, run.strides, strict=True):
        assert s.t_end_s == pytest.approx(rec.t_end_s)
        assert s.t_start_s == pytest.approx(max(prev_end, rec.t_end_s - 120.0 / rec.cadence_spm))
        prev_end = s.t_end_s
    assert {s.strike_type for s in body.strides} <= {*StrikeType, None}
