"""Soleware service codecs: hand-computed bytes, saturation, round trips, run-log framing."""

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soleware.gait import Gait, Side, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.link.soleware_service import (
    FRAME_OVERHEAD,
    SOLEWARE_SERVICE,
    STRIDE_DETAIL_CHARACTERISTIC,
    TIME_SYNC_CHARACTERISTIC,
    RawSamples,
    RunInfo,
    RunLogError,
    StrideDetail,
    crc16,
    decode_frames,
    encode_frame,
    soleware_uuid,
)

STRIDE = StrideDetail(
    seq=1,
    t_end_s=123.456,
    contact_time_s=0.245,
    flight_time_s=0.110,
    strike_angle_deg=-5.3,
    strike_type=StrikeType.MIDFOOT,
    impact_mps2=98.1,
    side=Side.LEFT,
    gait=Gait.RUN,
    length_m=2.345,
    speed_mps=3.456,
)
# seq 1 | 123456 = 0x0001E240 | 245 = 0xF5 | 110 = 0x6E | -53 = 0xFFCB | 2 | 981 = 0x03D5 | 1 | 2 |
# 2345 = 0x0929 | 3456 = 0x0D80
STRIDE_WIRE = "01000000 40e20100 f500 6e00 cbff 02 d503 01 02 2909 800d"


def test_uuids_share_the_documented_base() -> None:
    assert str(SOLEWARE_SERVICE.to_hex_str("-")).lower() == "6b940001-364d-4037-8cc7-5a7c676b25b3"
    assert soleware_uuid(0x0002, "x") == STRIDE_DETAIL_CHARACTERISTIC
    assert TIME_SYNC_CHARACTERISTIC.to_hex_str("-").lower().startswith("6b940006-")


def test_stride_detail_bytes() -> None:
    assert bytes(STRIDE) == bytes.fromhex(STRIDE_WIRE)
    assert len(bytes(STRIDE)) == StrideDetail.FORMAT.size == 23
    assert StrideDetail.from_bytes(bytes.fromhex(STRIDE_WIRE)) == STRIDE


@pytest.mark.parametrize(
    ("field", "value", "offset", "fmt", "wire"),
    [
        ("t_end_s", 2.0**32, 4, "<I", 2**32 - 1),
        ("t_end_s", -1.0, 4, "<I", 0),
        ("contact_time_s", 65.536, 8, "<H", 0xFFFF),
        ("flight_time_s", float("nan"), 10, "<H", 0),
        ("strike_angle_deg", 3276.8, 12, "<h", 0x7FFF),
        ("strike_angle_deg", -1e9, 12, "<h", -0x8000),
        ("impact_mps2", 6553.6, 15, "<H", 0xFFFF),
        ("impact_mps2", -0.1, 15, "<H", 0),
        ("length_m", 65.536, 19, "<H", 0xFFFF),
        ("speed_mps", float("inf"), 21, "<H", 0xFFFF),
    ],
)
def test_stride_detail_values_saturate_to_their_field(
    field: str, value: float, offset: int, fmt: str, wire: int
) -> None:
    """One range policy for every stride wire format: saturate (and NaN as 0), never fail on a sensor glitch."""
    (got,) = struct.unpack_from(fmt, bytes(StrideDetail(**{**STRIDE.__dict__, field: value})), offset)
    assert got == wire


@pytest.mark.parametrize("seq", [-1, 2**32])
def test_stride_detail_seq_must_fit(seq: int) -> None:
    with pytest.raises(ValueError, match="seq"):
        StrideDetail(**{**STRIDE.__dict__, "seq": seq})


def test_unknown_vocabulary_is_zero_on_the_wire_and_none_in_code() -> None:
    unknown = StrideDetail(**{**STRIDE.__dict__, "strike_type": None, "side": None, "gait": None})
    wire = bytes(unknown)
    assert (wire[14], wire[17], wire[18]) == (0, 0, 0)
    assert StrideDetail.from_bytes(wire) == unknown
    newer = bytearray(wire)
    newer[14], newer[17], newer[18] = 9, 7, 5  # numbers a newer shoe might send
    back = StrideDetail.from_bytes(bytes(newer))
    assert (back.strike_type, back.side, back.gait) == (None, None, None)


def test_contact_time_0_ms_is_unknown_and_1_ms_is_real() -> None:
    """The engine's NaN contact time (not measured) goes on the wire as 0 ms, and 0 ms comes back as NaN, not
    0 s: no foot touches the ground that briefly. 1 ms is a (glitchy, but) real value; flight time 0 ms is real."""
    # STRIDE_WIRE with contact 0 ms (bytes 8-9) and flight 0 ms (bytes 10-11)
    wire = bytes.fromhex("01000000 40e20100 0000 0000 cbff 02 d503 01 02 2909 800d")
    got = StrideDetail.from_bytes(wire)
    assert math.isnan(got.contact_time_s)
    assert got.flight_time_s == 0.0
    assert bytes(got) == wire
    assert (
        bytes(StrideDetail(**{**STRIDE.__dict__, "contact_time_s": math.nan, "flight_time_s": 0.0})) == wire
    )
    one = StrideDetail.from_bytes(bytes.fromhex("01000000 40e20100 0100 0000 cbff 02 d503 01 02 2909 800d"))
    assert one.contact_time_s == 0.001


def test_stride_detail_from_the_engines_stride() -> None:
    s = GaitStride(
        t_start_s=122.8, t_end_s=123.456, length_m=2.345, speed_mps=3.456, cadence_spm=180.0,
        contact_time_s=0.245, flight_time_s=0.11, strike_angle_deg=-5.3, strike_type=StrikeType.MIDFOOT,
        impact_mps2=98.1, gait=Gait.RUN,
    )  # fmt: skip
    assert StrideDetail.from_stride(s, seq=1, side=Side.LEFT) == STRIDE


def test_stride_detail_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="23 bytes"):
        StrideDetail.from_bytes(bytes.fromhex(STRIDE_WIRE)[:20])


@given(
    st.binary(min_size=23, max_size=23),
    st.integers(0, 3),
    st.integers(0, 2),
    st.integers(0, 2),
)
def test_any_stride_detail_wire_round_trips(wire: bytes, strike: int, side: int, gait: int) -> None:
    """Every wire value with known vocabulary numbers decodes and encodes to the same bytes."""
    known = bytearray(wire)
    known[14], known[17], known[18] = strike, side, gait
    assert bytes(StrideDetail.from_bytes(bytes(known))) == bytes(known)


def test_raw_samples_and_run_info_bytes() -> None:
    batch = RawSamples(start_counter=1000, channels=3, samples=(1, -1, 32767))
    assert bytes(batch) == bytes.fromhex("e8030000 03 0100 ffff ff7f")
    assert RawSamples.from_bytes(bytes(batch)) == batch
    with pytest.raises(ValueError, match="whole frames"):
        RawSamples(0, 3, (1, 2))
    with pytest.raises(ValueError, match="samples"):
        RawSamples(0, 1, (40_000,))

    run = RunInfo(run_id=7, start_unix_ms=1_700_000_000_000, first_seq=100, last_seq=250)
    # 1.7e12 = 0x0000018BCFE56800
    assert bytes(run) == bytes.fromhex("07000000 0068e5cf8b010000 64000000 fa000000")
    assert RunInfo.from_bytes(bytes(run)) == run


@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.lists(st.integers(-(2**15), 2**15 - 1), max_size=40))
def test_raw_samples_round_trip(start: int, channels: int, samples: list[int]) -> None:
    samples = samples[: len(samples) - len(samples) % channels]
    batch = RawSamples(start, channels, tuple(samples))
    assert RawSamples.from_bytes(bytes(batch)) == batch


def _crc16_bitwise(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc16_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1  # catalogue check value of CRC-16/CCITT-FALSE
    assert crc16(b"\x05\x00\x00\x00\x03\x00\x01\x02\x03") == _crc16_bitwise(
        b"\x05\x00\x00\x00\x03\x00\x01\x02\x03"
    )


def test_frame_layout_and_corruption() -> None:
    frame = encode_frame(5, b"\x01\x02\x03")
    body = bytes.fromhex("05000000 0300 010203")
    assert frame == body + struct.pack("<H", _crc16_bitwise(body))
    assert len(frame) == 3 + FRAME_OVERHEAD
    assert decode_frames(frame + encode_frame(6, b"")) == [(5, b"\x01\x02\x03"), (6, b"")]
    corrupted = bytearray(frame)
    corrupted[7] ^= 0x40
    with pytest.raises(RunLogError, match="CRC"):
        decode_frames(bytes(corrupted))
    with pytest.raises(RunLogError, match="truncated"):
        decode_frames(frame[:-1])


@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=60)), max_size=8))
def test_frames_round_trip(records: list[tuple[int, bytes]]) -> None:
    assert decode_frames(b"".join(encode_frame(seq, payload) for seq, payload in records)) == records
