"""The gateway's terminal view, rendered from known gateway state."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

from rich.console import Console

from soleware.console import render
from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.link.gateway import FootState, Gateway, SyncStore
from soleware.link.rsc import RscMeasurement
from soleware.link.soleware_service import StrideDetail


def stride(side: Side, gait: Gait, *, flight_time_s: float, seq: int = 7) -> StrideDetail:
    return StrideDetail(
        seq=seq,
        t_end_s=65.0,
        contact_time_s=0.64 if gait == Gait.WALK else 0.23,
        flight_time_s=flight_time_s,
        strike_angle_deg=12.0,
        strike_type=StrikeType.REARFOOT,
        impact_mps2=60.0,
        side=side,
        gait=gait,
        length_m=1.4,
        speed_mps=1.4,
    )


def text(gateway: Gateway) -> str:
    console = Console(record=True, width=100, color_system=None)
    console.print(render(gateway))
    return console.export_text()


def row(view: str, label: str) -> list[str]:
    """The cells of the feet table's row ``label``."""
    line = next(x for x in view.splitlines() if x.strip("│ ").startswith(label))
    return [cell.strip() for cell in line.strip().strip("│").split("│")][1:]


def gateway(tmp_path: Path) -> Gateway:
    gw = Gateway(None, state_dir=tmp_path)  # type: ignore[arg-type]  (the view never touches the radio)
    for side in ("left", "right"):
        gw.feet[side] = FootState(side=side, serial=f"SW-{side[0].upper()}", link="connected")
        gw.feet[side].rsc = RscMeasurement(speed_mps=1.4, cadence_spm=110, total_distance_m=90.0)
    return gw


def test_flight_is_shown_only_for_running_strides_with_a_flight_phase(tmp_path):
    gw = gateway(tmp_path)
    gw.feet["left"].last_stride = stride(Side.LEFT, Gait.WALK, flight_time_s=1.16)
    gw.feet["right"].last_stride = stride(Side.RIGHT, Gait.WALK, flight_time_s=0.422)
    assert row(text(gw), "flight") == ["–", "–"]

    gw.feet["left"].last_stride = stride(Side.LEFT, Gait.RUN, flight_time_s=0.118)
    gw.feet["right"].last_stride = stride(Side.RIGHT, Gait.RUN, flight_time_s=0.0)
    view = text(gw)
    assert row(view, "flight") == ["118 ms", "–"]
    assert row(view, "contact") == ["230 ms", "230 ms"]
    assert gw.live_update()["feet"]["left"]["flight_time_s"] == 0.118
    assert gw.live_update()["feet"]["right"]["flight_time_s"] is None


def test_a_contact_time_the_shoe_could_not_measure_is_shown_and_sent_as_unknown(tmp_path):
    """The shoe sends a contact time it could not measure (a foot's first stride) as 0 ms: the view shows "–" and
    the live update carries null (strict JSON, as it is posted), not 0; a real 1 ms is shown as 1 ms."""
    gw = gateway(tmp_path)
    unmeasured = dataclasses.replace(
        stride(Side.LEFT, Gait.RUN, flight_time_s=0.118), contact_time_s=math.nan
    )
    one_ms = dataclasses.replace(stride(Side.RIGHT, Gait.RUN, flight_time_s=0.118), contact_time_s=0.001)
    gw.feet["left"].last_stride = StrideDetail.from_bytes(bytes(unmeasured))
    gw.feet["right"].last_stride = StrideDetail.from_bytes(bytes(one_ms))
    assert row(text(gw), "contact") == ["–", "1 ms"]
    live = json.loads(json.dumps(gw.live_update(), allow_nan=False))
    assert live["feet"]["left"]["contact_time_s"] is None
    assert live["feet"]["right"]["contact_time_s"] == 0.001


def test_a_strike_the_shoe_did_not_measure_shows_no_angle(tmp_path):
    """A stride the shoe estimated across a gap in its samples (or one whose landing it could not judge) goes
    with strike unknown and an angle of 0°: the view shows "–", not "– +0°"."""
    gw = gateway(tmp_path)
    unjudged = dataclasses.replace(
        stride(Side.LEFT, Gait.RUN, flight_time_s=0.118), strike_type=None, strike_angle_deg=math.nan
    )
    gw.feet["left"].last_stride = StrideDetail.from_bytes(bytes(unjudged))
    gw.feet["right"].last_stride = stride(Side.RIGHT, Gait.RUN, flight_time_s=0.118)
    assert row(text(gw), "strike") == ["–", "rearfoot +12°"]


def test_synced_counts_every_record_received_also_after_the_upload(tmp_path):
    gw = gateway(tmp_path)
    left = gw.stores["SW-L"] = SyncStore(tmp_path / "sync" / "SW-L.json")
    for seq in range(1, 203):
        left.add(seq, b"record")
    left.add(17, b"record")  # sent again after a reconnect: still one record
    assert row(text(gw), "synced") == ["202", "0"]

    left.uploaded.add(1)
    left.forget_through(202)  # the server has the run, the shoe is acknowledged
    left.save()
    assert left.records == {}
    assert row(text(gw), "synced") == ["202", "0"]
    gw.stores["SW-L"] = SyncStore(left.path)  # the gateway restarted
    assert row(text(gw), "synced") == ["202", "0"]


def test_waiting_for_the_shoes(tmp_path):
    gw = Gateway(None, state_dir=tmp_path)  # type: ignore[arg-type]
    assert "waiting for the shoes" in text(gw)


def test_a_pod_shows_its_numbers_and_sensor_without_per_foot_rows(tmp_path):
    from soleware.link.gateway import PodState
    from soleware.link.pod import PodRecorder, SensorLabel

    gw = Gateway(None, state_dir=tmp_path, pod="any")  # type: ignore[arg-type]
    assert "waiting for the pod" in text(gw)
    clock = iter([0.0, 1.0])
    pod = PodState(side="pod", serial="C0:FF:EE:00:00:01", name="Stryd", link="connected")
    pod.recorder = PodRecorder(name="Stryd", clock=lambda: next(clock))
    pod.label = SensorLabel(name="Stryd", manufacturer="Stryd Inc.", model="NG", serial="A1B2")
    for raw in (b"\x03\x00\x03\xac\x6e\x00\x10\x27\x00\x00", b"\x03\x00\x03\xac\x6e\x00\x2e\x27\x00\x00"):
        pod.rsc = pod.recorder.add(raw)
    gw.pod_state = pod
    view = text(gw)
    assert "5:33" in view  # 3.0 m/s
    assert "172" in view and "0.00" in view  # cadence; 3 m of 1 km
    assert row(view, "made by") == ["Stryd Inc. NG"] and row(view, "serial") == ["A1B2"]
    assert row(view, "stride") == ["1.10 m"] and row(view, "notifications") == ["2 (0 skipped)"]
    assert "contact" not in view and "strike" not in view and "left" not in view


def test_the_lap_being_run_is_shown_and_the_key_said_only_where_keys_are_read(tmp_path):
    gw = gateway(tmp_path)
    console = Console(record=True, width=100, color_system=None)
    console.print(render(gw))
    assert "lap" not in console.export_text()
    console.print(render(gw, lap_key=True))
    assert "press L for a lap" in console.export_text()
    gw.mark_lap(at_unix_s=time.time() - 75.0)
    gw.mark_lap(at_unix_s=time.time() - 65.0)
    console.print(render(gw, lap_key=True))
    lines = [x for x in console.export_text().splitlines() if x.startswith("lap ")]
    assert lines and lines[0].split()[:4] == ["lap", "3", "·", "01:05"]
