"""A third-party running pod (written for the test, not our firmware), the gateway and the run service together
over virtual controllers: the run stored is what the pod's bytes say, labelled with the pod, without per-foot form."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.util
import json
import struct
from pathlib import Path

import pytest

from soleware.link.gateway import ServerClient
from soleware.link.rig import Rig
from soleware.server.config import Settings
from soleware.server.local import serving

EMAIL, PASSWORD = "runner@example.com", "run run run run"

_spec = importlib.util.spec_from_file_location(
    "third_party_pod", Path(__file__).with_name("third_party_pod.py")
)
assert _spec is not None and _spec.loader is not None
third_party_pod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(third_party_pod)
ThirdPartyPod = third_party_pod.ThirdPartyPod


async def server_runs(url: str) -> list[dict]:
    client = ServerClient(url, email=EMAIL, password=PASSWORD)
    try:
        runs = (await client._request("GET", "/api/runs?limit=200")).json()["runs"]
        return [(await client._request("GET", f"/api/runs/{r['id']}")).json() for r in runs]
    finally:
        await client.close()


async def until_live(url: str, predicate, timeout_s: float = 10.0) -> dict:
    """The service's live state for the runner once ``predicate`` holds for it."""
    client = ServerClient(url, email=EMAIL, password=PASSWORD)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            state = (await client._request("GET", "/api/live")).json()
            if predicate(state):
                return state
            assert asyncio.get_running_loop().time() < deadline, f"live state stayed {state}"
            await asyncio.sleep(0.1)
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def pod_and_gateway(tmp_path: Path, *, full: bool, count: int, **gateway):
    """The run service, a third-party pod on the first controller and a gateway: yields (url, rig, gateway, pod)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}")
    async with (
        serving(settings, runner=(EMAIL, PASSWORD)) as url,
        Rig(tmp_path, url, email=EMAIL, password=PASSWORD) as rig,
    ):
        pod = ThirdPartyPod(rig.radio.transports[0], full=full, count=count)
        task = asyncio.create_task(pod.run())
        try:
            yield url, rig, await rig.start_gateway(**gateway), pod
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def stop(rig: Rig) -> None:
    """Stop the gateway as the runner does, and let it finish (it uploads the pod run on the way out)."""
    assert rig.gateway is not None and rig.gateway_task is not None
    rig.gateway.stop()
    await asyncio.wait_for(asyncio.shield(rig.gateway_task), 60)


def readable(sent: list[bytes]) -> list[tuple[int, ...]]:
    """The notifications a pod sent that RSCS 1.0 can read, as (flags, speed, cadence[, stride, total]) by hand."""
    out = []
    for data in sent:
        flags = data[0]
        size = 4 + 2 * (flags & 1) + 4 * (flags >> 1 & 1)
        if len(data) >= size:
            fmt = "<BHB" + ("H" if flags & 1 else "") + ("I" if flags & 2 else "")
            out.append(struct.unpack_from(fmt, data))
    return out


async def test_a_pod_with_mandatory_fields_only_is_recorded_by_integrated_speed(tmp_path):
    async with pod_and_gateway(tmp_path, full=False, count=20, pod="any") as (url, rig, gw, pod):
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        values = readable(pod.sent)
        await rig.until(
            lambda: gw.pod_state is not None and len(gw.pod_state.recorder) == len(values), 10, "them"
        )
        await stop(rig)
        runs = await server_runs(url)
    assert len(pod.sent) == 21 and len(values) == 20, "one short packet among them"
    assert {v[1:] for v in values} == {(3 * 256, 172)}
    assert len(runs) == 1 and gw.uploads[0]["created"]
    run = runs[0]
    assert run["source"] == "pod" and run["feet"] == [] and run["shoe_serials"] == []
    # 3 m/s all along: the distance is 3 m/s over the time from the first notification to the last
    assert run["elapsed_time_s"] > 1.5
    assert run["distance_m"] == pytest.approx(3.0 * run["elapsed_time_s"], rel=1e-6)
    assert run["avg_cadence_spm"] == pytest.approx(172)
    assert set(run["streams"]["stride_length_m"]) == {None} and set(run["streams"]["contact_time_s"]) == {
        None
    }
    assert run["sensor"] == {
        "name": "RunPod 1814",
        "manufacturer": None,
        "model": None,
        "serial": None,
        "label": "RunPod 1814",
    }
    assert not list((tmp_path / "gw" / "pod").glob("*.json")), "the kept run went once stored"


async def test_a_lap_pressed_while_recording_a_pod_goes_up_with_its_run(tmp_path):
    """On a treadmill with a pod: the press splits the run where it fell, on the gateway's clock as the samples."""
    async with pod_and_gateway(tmp_path, full=False, count=20, pod="any") as (url, rig, gw, pod):
        await rig.until(lambda: gw.pod_state is not None and len(gw.pod_state.recorder) >= 10, 60, "half")
        gw.mark_lap()
        pressed = gw.lap_marks_unix_s[-1]
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        await stop(rig)
        runs = await server_runs(url)
    run = runs[0]
    start = dt.datetime.fromisoformat(run["start_time"]).timestamp()
    first, second = run["laps"]
    assert first["t_start_s"] == 0.0 and first["t_end_s"] == pytest.approx(pressed - start, abs=0.01)
    assert second["t_end_s"] == pytest.approx(run["elapsed_time_s"])
    assert sum(lap["distance_m"] for lap in run["lap_splits"]) == pytest.approx(run["distance_m"], rel=1e-3)


async def test_a_pod_with_every_optional_field_is_recorded_by_its_total_distance_through_a_wrap(tmp_path):
    async with pod_and_gateway(tmp_path, full=True, count=20, pod="RunPod 1814") as (url, rig, gw, pod):
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        values = readable(pod.sent)
        await rig.until(
            lambda: gw.pod_state is not None and len(gw.pod_state.recorder) == len(values), 10, "them"
        )
        live = gw.live_update()
        live_on_server = await until_live(url, lambda x: x.get("distance_m", 0) >= 0.3 * 19 - 1e-6)
        await stop(rig)
        runs = await server_runs(url)
        assert (await until_live(url, lambda x: x["type"] == "idle"))["type"] == "idle", "the live run ended"
    assert live_on_server["feet"] == {} and live_on_server["stride_length_m"] == pytest.approx(1.05)
    totals = [v[4] for v in values]
    assert totals[0] > 2**32 - 12 and totals[-1] < 100, "the pod's decimetre counter wrapped"
    implied_m = sum((b - a) % 2**32 for a, b in zip(totals, totals[1:], strict=False)) / 10
    assert implied_m == pytest.approx(0.3 * 19)
    assert len(runs) == 1
    run = runs[0]
    assert run["distance_m"] == pytest.approx(implied_m, abs=1e-3)
    assert live is not None and live["distance_m"] == pytest.approx(implied_m) and live["feet"] == {}
    assert run["avg_cadence_spm"] == pytest.approx(172)
    lengths = run["streams"]["stride_length_m"]
    assert lengths == [pytest.approx(1.05, abs=1e-3)] * len(lengths)
    assert run["feet"] == [] and run["source"] == "pod"
    assert run["sensor"] == {
        "name": "RunPod 1814",
        "manufacturer": "Acme Sports",
        "model": "Stride X",
        "serial": "ACME-0042",
        "label": "RunPod 1814 Acme Sports Stride X #ACME-0042",
    }
    assert gw.pod_state is not None and gw.pod_state.recorder.skipped == 1


async def test_a_pod_run_the_service_could_not_take_is_kept_and_sent_at_the_next_start(tmp_path):
    async with pod_and_gateway(tmp_path, full=True, count=12, pod="any") as (url, rig, gw, pod):
        server, gw.server = gw.server, None  # the phone is offline when the runner stops
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        await rig.until(lambda: gw.pod_state is not None and len(gw.pod_state.recorder) >= 11, 10, "them")
        await stop(rig)
        assert server is not None
        await server.close()
        kept = list((tmp_path / "gw" / "pod").glob("*.json"))
        assert len(kept) == 1 and json.loads(kept[0].read_text())["sensor"]["serial"] == "ACME-0042"
        assert await server_runs(url) == []
        gw = await rig.start_gateway(pod="nothing-here")  # online again; no pod around
        await rig.until(lambda: len(gw.uploads) == 1, 30, "the kept run to be sent")
        runs = await server_runs(url)
        assert len(runs) == 1 and runs[0]["sensor"]["serial"] == "ACME-0042"
        assert not list((tmp_path / "gw" / "pod").glob("*.json"))


async def test_shoes_and_pods_are_kept_apart(tmp_path):
    """A gateway for shoes leaves a pod alone; one for a pod connects to nothing else."""
    async with pod_and_gateway(tmp_path, full=False, count=5) as (_url, _rig, gw, pod):
        await asyncio.sleep(2.5)  # two scan windows with the pod advertising
        assert gw.feet == {} and gw.pod_state is None and not pod.subscribed.is_set()


async def test_a_pod_run_the_service_refuses_is_kept_and_shown_to_the_runner(tmp_path):
    async with pod_and_gateway(tmp_path, full=False, count=8, pod="any", time_zone="Mars/Olympus") as (
        url,
        rig,
        gw,
        pod,
    ):
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        await rig.until(lambda: gw.pod_state is not None and len(gw.pod_state.recorder) >= 8, 10, "them")
        await stop(rig)
        assert len(gw.rejections) == 1 and "unknown time zone" in gw.rejections[0]
        kept = list((tmp_path / "gw" / "pod").glob("*"))
        assert [p.name.endswith(".refused.json") for p in kept] == [True]
        client = ServerClient(url, email=EMAIL, password=PASSWORD)
        try:
            refused = (await client._request("GET", "/api/refused-uploads")).json()["refused"]
        finally:
            await client.close()
        assert [(u["key"], u["reason"]) for u in refused] == [
            (f"pod:{kept[0].name.removesuffix('.refused.json')}", gw.rejections[0])
        ]
        assert await server_runs(url) == []


async def test_a_pod_link_that_drops_mid_run_is_one_run_and_the_total_bridges_the_gap(tmp_path):
    """The pod goes out of range for a moment: the gateway reconnects, the run stays one run, and since the pod
    counts its total distance meanwhile, the run's distance is all the pod counted, gap included."""
    async with pod_and_gateway(tmp_path, full=True, count=60, pod="any") as (url, rig, gw, pod):
        await rig.until(lambda: len(pod.sent) >= 12, 60, "the run to be under way")
        assert pod.device is not None
        for connection in list(pod.device.connections.values()):
            await connection.disconnect()
        await rig.until(pod.done.is_set, 60, "the pod to send its notifications")
        totals = [v[4] for v in readable(pod.sent)]
        await rig.until(
            lambda: (
                gw.pod_state is not None and gw.pod_state.recorder.total_distance_m[-1] == totals[-1] / 10
            ),
            10,
            "the last notification",
        )
        assert gw.pod_state is not None
        received = len(gw.pod_state.recorder)
        await stop(rig)
        runs = await server_runs(url)
    assert gw.pod_state.reconnects >= 1 and received < len(totals), "notifications were lost in the gap"
    assert len(runs) == 1
    assert runs[0]["distance_m"] == pytest.approx((totals[-1] - totals[0]) % 2**32 / 10, abs=1e-3)
