"""Golden byte vectors of the notification codecs, shared by the Python and the browser decoders.

``tests/web/ble_golden.json`` was written by this module's :func:`vectors` from the Python codecs
(``python tests/link/test_ble_golden.py`` writes it again); this test checks that the Python codecs still give
exactly those bytes and values, and ``tests/web/test_phone.py`` that the page's ``ble.js`` decodes the same bytes
to the same values.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.link.gateway import run_upload_body, runs_in
from soleware.link.rsc import RscMeasurement
from soleware.link.soleware_service import StrideDetail, crc16, encode_frame
from soleware.shoe.runlog._records import LogRecord, Overflow, RunEnd, RunStart, Stride, StrideV1

GOLDEN = Path(__file__).parents[1] / "web" / "ble_golden.json"

RSC = [
    RscMeasurement(
        speed_mps=3.5, cadence_spm=170, stride_length_m=1.4, total_distance_m=1000.0, is_running=True
    ),
    RscMeasurement(speed_mps=3.2, cadence_spm=168),
    RscMeasurement(speed_mps=1.4, cadence_spm=110, stride_length_m=0.75, is_running=False),
    RscMeasurement(speed_mps=4.1, cadence_spm=182, total_distance_m=42195.3, is_running=True),
    RscMeasurement(
        speed_mps=300.0, cadence_spm=300, stride_length_m=900.0, total_distance_m=1e12, is_running=True
    ),
]
STRIDES = [
    StrideDetail(1, 12.345, 0.231, 0.112, 8.4, StrikeType.REARFOOT, 98.7, Side.LEFT, Gait.RUN, 2.412, 3.456),
    StrideDetail(2, 13.1, 0.244, 0.09, -4.2, StrikeType.FOREFOOT, 120.0, Side.RIGHT, Gait.RUN, 2.38, 3.4),
    StrideDetail(70000, 4000.0, 0.4, 0.0, 1.0, None, 30.0, None, Gait.WALK, 1.1, 1.3),
    StrideDetail(2**32 - 1, 1e7, 80.0, 80.0, -4000.0, StrikeType.MIDFOOT, 1e5, Side.LEFT, None, 99.0, 99.0),
    # a contact time the engine could not measure (NaN) goes as 0 ms and reads as unknown (null); 1 ms is real, and
    # so is a walking stride's flight time of 0 ms
    StrideDetail(5, 14.0, math.nan, 0.1, 2.0, StrikeType.REARFOOT, 90.0, Side.RIGHT, Gait.RUN, 2.3, 3.3),
    StrideDetail(6, 15.2, 0.001, 0.0, 3.0, StrikeType.REARFOOT, 40.0, Side.LEFT, Gait.WALK, 1.3, 1.1),
]


def _rsc_value(m: RscMeasurement) -> dict[str, Any]:
    return {
        "speed_mps": m.speed_mps,
        "cadence_spm": m.cadence_spm,
        "stride_length_m": m.stride_length_m,
        "total_distance_m": m.total_distance_m,
        "running": m.is_running,
    }


def _json_value(v: Any) -> Any:
    """An enum as its word, NaN (unknown) as None: JSON has no NaN."""
    if isinstance(v, Side | StrikeType | Gait):
        return str(v)
    return None if isinstance(v, float) and math.isnan(v) else v


def _stride_value(s: StrideDetail) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in dataclasses.asdict(s).items()}


#: Run Log Data notifications: (seq, payload) records framed back to back, as the shoe packs them
FRAMES = [
    [(0, b"")],
    [(1, bytes(range(23))), (2, b"\x06" + bytes(30)), (3, b"\xff" * 5)],
    [(4_000_000_000, b"123456789")],
]


def _stride(
    cls: type[Stride], seq: int, run_id: int, side: Side, t_start_ms: int | None, t_end_ms: int, **kw: Any
) -> Stride:
    values: dict[str, Any] = {
        "stride_length_mm": 2412,
        "speed_mmps": 3456,
        "cadence_spm_x10": 1712,
        "contact_ms": 231,
        "flight_ms": 112,
        "strike_angle_deg_x10": 84,
        "strike_type": StrikeType.REARFOOT,
        "impact_mps2_x10": 987,
        "gait": Gait.RUN,
    } | kw
    return cls(seq=seq, run_id=run_id, t_start_ms=t_start_ms, t_end_ms=t_end_ms, side=side, **values)


def _run(
    seq: int, side: Side, start_ms: int, strides: int, *, old: bool = False, end: bool = True, run_id: int = 0
) -> list[LogRecord]:
    """One logged run: RUN_START, ``strides`` strides of 0.7 s, RUN_END (unless ``end`` is False)."""
    rid = run_id or seq
    out: list[LogRecord] = [
        RunStart(seq=seq, run_id=rid, start_unix_ms=start_ms, side=side, firmware="0.3.0")
    ]
    for i in range(strides):
        t0, t1 = 300 + 700 * i, 1000 + 700 * i
        if old:
            out.append(_stride(StrideV1, seq + 1 + i, rid, side, None, t1))
        else:
            out.append(_stride(Stride, seq + 1 + i, rid, side, t0, t1))
    if end:
        out.append(
            RunEnd(
                seq=seq + 1 + strides,
                run_id=rid,
                distance_mm=9999,
                moving_ms=1,
                elapsed_ms=1,
                stride_count=strides,
            )
        )
    return out


#: run log cases: each shoe's records (serial -> records) and the runs a gateway uploads from them, grouped as
#: the gateway groups them (side -> serial, in the order the gateway meets them)
RUNLOG: list[tuple[dict[str, list[LogRecord]], list[dict[Side, str]]]] = [
    (  # both feet, the right shoe's start 0.35 s later; odd values; the left foot's next run not ended yet
        {
            "L1": [
                *_run(1, Side.LEFT, 1_760_000_000_123, 3),
                _stride(Stride, 6, 1, Side.LEFT, 2400, 2400),  # no duration: dropped
                _stride(
                    Stride,
                    7,
                    1,
                    Side.LEFT,
                    2500,
                    3100,
                    strike_type=None,
                    gait=None,
                    strike_angle_deg_x10=-4000,
                    impact_mps2_x10=65535,
                    cadence_spm_x10=0,
                ),
                *_run(20, Side.LEFT, 1_760_000_900_000, 2, end=False),
            ],
            "R2": _run(1, Side.RIGHT, 1_760_000_000_473, 4),
        },
        [{Side.LEFT: "L1", Side.RIGHT: "R2"}],
    ),
    (  # firmware up to 0.2 (no stride start), one foot; a stride of cadence 0 lasts 1 s; an overflow record
        {
            "R9": [
                *_run(5, Side.RIGHT, 1_750_000_000_000, 3, old=True)[:-1],
                _stride(StrideV1, 9, 5, Side.RIGHT, None, 3300, cadence_spm_x10=0),
                _stride(StrideV1, 10, 5, Side.RIGHT, None, 3300),  # ends when the previous did: dropped
                Overflow(seq=11, run_id=5, t_end_ms=4000),
                RunEnd(seq=12, run_id=5, distance_mm=1, moving_ms=1, elapsed_ms=1, stride_count=5),
            ],
        },
        [{Side.RIGHT: "R9"}],
    ),
    (  # two outings of both feet, 10 min apart: two uploads, each foot paired with its own outing
        {
            "L1": [*_run(1, Side.LEFT, 1_740_000_000_000, 2), *_run(10, Side.LEFT, 1_740_000_600_000, 2)],
            "R2": [*_run(1, Side.RIGHT, 1_740_000_600_500, 2), *_run(10, Side.RIGHT, 1_740_000_001_000, 2)],
        },
        [{Side.LEFT: "L1", Side.RIGHT: "R2"}, {Side.LEFT: "L1", Side.RIGHT: "R2"}],
    ),
    (  # a foot's first stride leaves a stance that began before the run: its contact time could not be measured
        # and is logged as 0 ms, uploaded as null (unknown); 1 ms is real, and so is a walking stride's 0 ms flight
        {
            "L3": [
                RunStart(seq=1, run_id=3, start_unix_ms=1_730_000_000_000, side=Side.LEFT, firmware="0.3.0"),
                _stride(Stride, 2, 3, Side.LEFT, 300, 1000, contact_ms=0),
                _stride(Stride, 3, 3, Side.LEFT, 1000, 1700, contact_ms=1),
                _stride(Stride, 4, 3, Side.LEFT, 1700, 2900, contact_ms=640, flight_ms=0, gait=Gait.WALK),
                RunEnd(seq=5, run_id=3, distance_mm=6000, moving_ms=2600, elapsed_ms=2600, stride_count=3),
            ],
        },
        [{Side.LEFT: "L3"}],
    ),
    (  # samples lost to a gap on the shoe: the engine bridged two strides (flag bit 5), logged with their form
        # fields 0, uploaded as estimated with their flight time, strike angle and impact unknown (null)
        {
            "R4": [
                RunStart(seq=1, run_id=4, start_unix_ms=1_720_000_000_000, side=Side.RIGHT, firmware="0.4.0"),
                _stride(Stride, 2, 4, Side.RIGHT, 300, 1000),
                *(
                    _stride(
                        Stride,
                        3 + k,
                        4,
                        Side.RIGHT,
                        1000 + 700 * k,
                        1700 + 700 * k,
                        contact_ms=0,
                        flight_ms=0,
                        strike_angle_deg_x10=0,
                        strike_type=None,
                        impact_mps2_x10=0,
                        estimated=True,
                    )
                    for k in range(2)
                ),
                _stride(Stride, 5, 4, Side.RIGHT, 2400, 3100),
                RunEnd(seq=6, run_id=4, distance_mm=9648, moving_ms=2800, elapsed_ms=2800, stride_count=4),
            ],
        },
        [{Side.RIGHT: "R4"}],
    ),
]


def _runlog_bodies(shoes: dict[str, list[LogRecord]], groups: list[dict[Side, str]]) -> list[dict[str, Any]]:
    runs = {serial: runs_in({r.seq: bytes(r) for r in records}) for serial, records in shoes.items()}
    complete = sorted(
        (
            (serial, r)
            for serial, rs in runs.items()
            for r in rs.values()
            if r.complete and r.start is not None
        ),
        key=lambda x: x[1].start.start_unix_ms if x[1].start else 0,
    )
    bodies = []
    for group in groups:
        feet = {}
        for side, serial in group.items():
            serial_run = next(
                x for x in complete if x[0] == serial and x[1].start and x[1].start.side == side
            )
            complete.remove(serial_run)
            feet[side] = serial_run
        bodies.append(json.loads(json.dumps(run_upload_body(feet, time_zone="Europe/Berlin").to_json())))
    return bodies


def vectors() -> dict[str, list[dict[str, Any]]]:
    """Each codec's bytes for the values above, and what decoding those bytes gives."""
    return {
        "crc16": [
            {"hex": data.hex(), "value": crc16(data)} for data in (b"123456789", b"", bytes(range(256)))
        ],
        "frames": [
            {
                "hex": b"".join(encode_frame(seq, payload) for seq, payload in records).hex(),
                "value": [[seq, payload.hex()] for seq, payload in records],
            }
            for records in FRAMES
        ],
        "runlog": [
            {
                "shoes": {
                    serial: [[r.seq, bytes(r).hex()] for r in records] for serial, records in shoes.items()
                },
                "time_zone": "Europe/Berlin",
                "value": _runlog_bodies(shoes, groups),
            }
            for shoes, groups in RUNLOG
        ],
        "rsc": [
            {"hex": bytes(m).hex(), "value": _rsc_value(RscMeasurement.from_bytes(bytes(m)))} for m in RSC
        ],
        "stride": [
            {"hex": bytes(s).hex(), "value": _stride_value(StrideDetail.from_bytes(bytes(s)))}
            for s in STRIDES
        ],
    }


def test_the_python_codecs_give_the_golden_vectors():
    assert json.loads(GOLDEN.read_text()) == vectors()


def test_the_golden_vectors_cover_saturation_and_absent_fields():
    golden = json.loads(GOLDEN.read_text())
    assert golden["rsc"][0]["hex"] == "078003aa8c0010270000"  # the example in docs/ble.md
    assert golden["rsc"][1]["value"]["stride_length_m"] is None
    assert golden["rsc"][4]["value"]["speed_mps"] == 65535 / 256
    assert golden["stride"][2]["value"]["strike_type"] is None
    assert golden["stride"][3]["value"]["contact_time_s"] == 65.535
    assert golden["crc16"][0]["value"] == 0x29B1  # the check value docs/ble.md gives
    both, old, two, first, bridged = (case["value"] for case in golden["runlog"])
    assert [len(b["strides"]) for b in both + old + two + first + bridged] == [
        8,
        4,
        4,
        4,
        3,
        4,
    ]  # incomplete run and timeless strides left out
    assert both[0]["start_time"] == "2025-10-09T08:53:20.123000+00:00"
    assert both[0]["strides"][3]["gait"] == "run" and both[0]["strides"][3]["strike_type"] is None
    assert old[0]["strides"][-1]["t_start_s"] == 2.4  # 0x02 record: the start is the previous stride's end
    assert [b["strides"][-1]["side"] for b in two] == ["right", "right"]
    # contact time 0 ms is unknown, on the Stride Detail characteristic and in the run log alike; flight 0 ms is not
    assert [golden["stride"][k]["value"]["contact_time_s"] for k in (4, 5)] == [None, 0.001]
    assert golden["stride"][5]["value"]["flight_time_s"] == 0.0
    assert [s["contact_time_s"] for s in first[0]["strides"]] == [None, 0.001, 0.64]
    assert [s["flight_time_s"] for s in first[0]["strides"]] == [0.112, 0.112, 0.0]
    assert [s["estimated"] for s in bridged[0]["strides"]] == [False, True, True, False]
    assert [s["impact_g"] is None for s in bridged[0]["strides"]] == [False, True, True, False]
    assert bytes.fromhex(golden["runlog"][4]["shoes"]["R4"][2][1])[6 + 26] & 0x20  # the flags byte's bit 5


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(vectors(), indent=1) + "\n")
