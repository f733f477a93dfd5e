"""Golden byte vectors of the notification codecs, shared by the Python and the browser decoders.

``tests/web/ble_golden.json`` was written by this module's :func:`vectors` from the Python codecs
(``python tests/link/test_ble_golden.py`` writes it again); this test checks that the Python codecs still give
exactly those bytes and values, and ``tests/web/test_phone.py`` that the page's ``ble.js`` decodes the same bytes
to the same values.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.link.rsc import RscMeasurement
from soleware.link.soleware_service import StrideDetail, crc16, encode_frame

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
]


def _rsc_value(m: RscMeasurement) -> dict[str, Any]:
    return {
        "speed_mps": m.speed_mps,
        "cadence_spm": m.cadence_spm,
        "stride_length_m": m.stride_length_m,
        "total_distance_m": m.total_distance_m,
        "running": m.is_running,
    }


def _stride_value(s: StrideDetail) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Side | StrikeType | Gait) else v)
        for k, v in dataclasses.asdict(s).items()
    }


#: Run Log Data notifications: (seq, payload) records framed back to back, as the shoe packs them
FRAMES = [
    [(0, b"")],
    [(1, bytes(range(23))), (2, b"\x06" + bytes(30)), (3, b"\xff" * 5)],
    [(4_000_000_000, b"123456789")],
]


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


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(vectors(), indent=1) + "\n")
