"""Record frames and the NOR flash model."""

from __future__ import annotations

import dataclasses

import pytest

from soleware.gait import Gait, Side, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import (
    FRAME_OVERHEAD,
    Ack,
    FileFlash,
    FlashError,
    LogRecord,
    MemoryFlash,
    Overflow,
    PowerCut,
    RecordError,
    RunEnd,
    RunStart,
    Stride,
    StrideV1,
    parse_size,
    record_to_dict,
)


def gait_stride(**kw: object) -> GaitStride:
    values: dict[str, object] = {
        "t_start_s": 1233.9,
        "t_end_s": 1234.567,
        "length_m": 2.345,
        "speed_mps": 3.456,
        "cadence_spm": 172.34,
        "contact_time_s": 0.234,
        "flight_time_s": 0.111,
        "strike_angle_deg": -12.34,
        "strike_type": StrikeType.MIDFOOT,
        "impact_mps2": 123.45,
        "gait": Gait.WALK,
    }
    return GaitStride(**{**values, **kw})  # type: ignore[arg-type]


STRIDE = Stride.from_stride(gait_stride(), seq=42, run_id=7, side=Side.RIGHT)
STRIDE_V1 = StrideV1(**{**STRIDE.__dict__, "seq": 43, "t_start_ms": None})
EXAMPLES: list[LogRecord] = [
    RunStart(
        seq=1,
        run_id=1,
        start_unix_ms=1_733_000_000_123,
        side=Side.LEFT,
        firmware="1.2.3",
        calibration_ppm=1_012_345,
    ),
    STRIDE,
    STRIDE_V1,
    RunEnd(
        seq=3,
        run_id=1,
        distance_mm=42_195_000,
        moving_ms=10_800_000,
        elapsed_ms=11_000_000,
        stride_count=14_000,
        dropped_strides=12,
    ),
    Overflow(seq=4, run_id=1, t_end_ms=99),
    Ack(seq=4),
]


@pytest.mark.parametrize("rec", EXAMPLES, ids=lambda r: type(r).__name__)
def test_round_trip_and_size(rec: LogRecord) -> None:
    frame = bytes(rec)
    assert len(frame) == rec.frame_size() == FRAME_OVERHEAD + type(rec)._PAYLOAD.size
    assert type(rec).from_bytes(frame) == rec
    assert LogRecord.from_bytes(b"\xaa" + frame + b"\xff", 1) == rec


@pytest.mark.parametrize("rec", EXAMPLES, ids=lambda r: type(r).__name__)
def test_every_single_bit_flip_is_detected(rec: LogRecord) -> None:
    frame = bytes(rec)
    for i in range(len(frame) * 8):
        bad = bytearray(frame)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(RecordError):
            LogRecord.from_bytes(bytes(bad))


def test_stride_scaling_and_si_views() -> None:
    assert STRIDE.stride_length_mm == 2345 and STRIDE.length_m == pytest.approx(2.345)
    assert STRIDE.t_start_ms == 1_233_900 and STRIDE.t_start_s == pytest.approx(1233.9)
    assert STRIDE.contact_time_s == pytest.approx(0.234) and STRIDE.flight_time_s == pytest.approx(0.111)
    assert STRIDE.speed_mps == pytest.approx(3.456)
    assert STRIDE.cadence_spm_x10 == 1723 and STRIDE.cadence_spm == pytest.approx(172.3)
    assert STRIDE.strike_angle_deg_x10 == -123 and STRIDE.strike_angle_deg == pytest.approx(-12.3)
    assert STRIDE.t_end_ms == 1_234_567 and STRIDE.impact_mps2 == pytest.approx(123.4, abs=0.11)
    assert (STRIDE.strike_type, STRIDE.gait, STRIDE.side) == (StrikeType.MIDFOOT, Gait.WALK, Side.RIGHT)
    assert Stride.frame_size() == 37 and StrideV1.frame_size() == 33


def test_the_start_offset_is_the_runs_start() -> None:
    s = Stride.from_stride(
        gait_stride(t_start_s=100.25, t_end_s=101.0), seq=1, run_id=1, side=Side.LEFT, t0_s=100
    )
    assert (s.t_start_ms, s.t_end_ms) == (250, 1000)


def test_unknown_strike_and_gait_travel_as_none() -> None:
    s = Stride.from_stride(
        gait_stride(strike_type=None, strike_angle_deg=float("nan")), seq=1, run_id=1, side=Side.LEFT
    )
    back = Stride.from_bytes(bytes(s))
    assert back.strike_type is None and back.strike_angle_deg_x10 == 0 and back.gait is Gait.WALK


def test_an_unmeasured_contact_time_is_logged_as_0_ms_and_reads_as_unknown() -> None:
    """The engine's NaN contact time is stored as 0 ms, and 0 ms reads back as None (unknown), not 0 s: no foot
    touches the ground that briefly. 1 ms is a real value; a flight time of 0 ms is real (walking), in both
    layouts."""
    s = Stride.from_stride(
        gait_stride(contact_time_s=float("nan"), flight_time_s=0.0), seq=1, run_id=1, side=Side.LEFT
    )
    assert (s.contact_ms, s.flight_ms) == (0, 0)
    for rec in (s, StrideV1(**{**s.__dict__, "t_start_ms": None})):
        back = Stride.from_bytes(bytes(rec))
        assert back == rec and back.contact_time_s is None and back.flight_time_s == 0.0
    assert dataclasses.replace(s, contact_ms=1).contact_time_s == 0.001


def test_an_estimated_stride_is_logged_with_bit_5_of_its_flags() -> None:
    """A stride the engine bridged across samples it never had keeps that mark on the shoe: bit 5 of the flags
    byte, which earlier firmware left 0 and earlier readers mask off; nothing else in the record moves."""
    nan = float("nan")
    bridged = gait_stride(
        bridged=True,
        contact_time_s=nan,
        flight_time_s=nan,
        strike_angle_deg=nan,
        strike_type=None,
        impact_mps2=nan,
    )
    s = Stride.from_stride(bridged, seq=9, run_id=2, side=Side.RIGHT)
    measured = Stride.from_stride(gait_stride(strike_type=None), seq=9, run_id=2, side=Side.RIGHT)
    assert s.estimated and not measured.estimated
    a, b = bytes(s), bytes(dataclasses.replace(s, estimated=False))
    assert [k for k in range(len(a)) if a[k] != b[k]][:1] == [6 + 26] and a[6 + 26] ^ b[6 + 26] == 0x20
    back = Stride.from_bytes(a)
    assert back == s and (back.side, back.gait, back.strike_type) == (Side.RIGHT, Gait.WALK, None)
    assert record_to_dict(back)["estimated"] is True


def test_a_v1_stride_reads_as_a_stride_without_its_start() -> None:
    frame = bytes(STRIDE_V1)
    assert frame[0] == 0x02 and len(frame) == 33
    back = Stride.from_bytes(frame)
    assert isinstance(back, StrideV1) and back.t_start_ms is None and back.t_start_s is None
    assert back.t_end_ms == STRIDE.t_end_ms and back.strike_type is StrikeType.MIDFOOT


def test_stride_values_saturate_instead_of_failing() -> None:
    glitch = gait_stride(
        t_start_s=-2, t_end_s=-1, length_m=1e6, speed_mps=-3, cadence_spm=1e9, contact_time_s=99.0,
        flight_time_s=float("inf"), strike_angle_deg=1e5, impact_mps2=float("nan"),
    )  # fmt: skip
    s = Stride.from_stride(glitch, seq=1, run_id=1, side=Side.LEFT)
    assert (s.t_end_ms, s.stride_length_mm, s.speed_mmps, s.cadence_spm_x10) == (0, 0xFFFF, 0, 0xFFFF)
    assert s.strike_angle_deg_x10 == 0x7FFF and s.contact_ms == 0xFFFF
    assert s.flight_ms == 0xFFFF and s.impact_mps2_x10 == 0
    assert Stride.from_bytes(bytes(s)) == s


def test_wrong_type_and_truncation() -> None:
    with pytest.raises(RecordError, match="expected"):
        RunEnd.from_bytes(bytes(STRIDE))
    with pytest.raises(RecordError):
        LogRecord.from_bytes(bytes(STRIDE)[:-1])
    with pytest.raises(RecordError, match="unknown"):
        LogRecord.from_bytes(b"\x77" + bytes(STRIDE)[1:])


def test_record_to_dict_is_json_ready() -> None:
    d = record_to_dict(STRIDE)
    assert d["type"] == "stride" and d["strike_type"] == "midfoot" and d["side"] == "right" and d["seq"] == 42
    assert record_to_dict(dataclasses.replace(STRIDE, strike_type=None))["strike_type"] is None


def test_firmware_string_is_truncated_to_12_ascii_bytes() -> None:
    r = RunStart(seq=1, run_id=1, start_unix_ms=0, side=Side.LEFT, firmware="v1.2.3-beta+build77")
    assert RunStart.from_bytes(bytes(r)).firmware == "v1.2.3-beta+"


# ----------------------------------------------------------------------------------------------- flash model


def test_program_only_clears_bits_and_erase_sets_ff() -> None:
    f = MemoryFlash(1024, page_size=256, strict=False)
    f.program(10, b"\x0f\xf0")
    f.program(10, b"\xf3\x3f")
    assert f.read(10, 2) == b"\x03\x30"
    f.erase(0)
    assert f.read(0, 256) == b"\xff" * 256 and f.erase_count == 1


def test_strict_flash_refuses_to_set_bits() -> None:
    f = MemoryFlash(1024, page_size=256)
    f.program(0, b"\x00")
    with pytest.raises(FlashError, match="erase first"):
        f.program(0, b"\x01")
    with pytest.raises(FlashError):
        f.read(1020, 8)
    with pytest.raises(FlashError):
        MemoryFlash(1000, page_size=256)


@pytest.mark.parametrize("cut", range(9))
def test_power_cut_after_n_bytes_of_a_program(cut: int) -> None:
    f = MemoryFlash(512, page_size=256)
    f.cut_power_after(cut)
    with pytest.raises(PowerCut):
        f.program(100, bytes(9))
    assert f.read(100, 9) == bytes(cut) + b"\xff" * (9 - cut)
    f.program(200, b"\x00")  # the cut fired once and disarmed


def test_torn_byte_only_clears_bits_the_program_would_clear() -> None:
    seen = set()
    for seed in range(200):
        f = MemoryFlash(512, page_size=256)
        f.program(0, b"\xf0")
        f.cut_power_after(0, torn=True, seed=seed)
        with pytest.raises(PowerCut):
            f.program(0, b"\x30\x00")
        got = f.read(0, 2)
        assert got[0] & 0x30 == 0x30 and got[0] & 0x0F == 0 and got[1] == 0xFF
        seen.add(got[0])
    assert seen == {0x30, 0x70, 0xB0, 0xF0}


def test_power_cut_during_erase() -> None:
    f = MemoryFlash(512, page_size=256)
    f.program(0, bytes(256))
    f.cut_power_after(100)
    with pytest.raises(PowerCut):
        f.erase(0)
    assert f.read(0, 256) == b"\xff" * 100 + bytes(156)
    assert f.work_bytes == 356


def test_file_flash_persists(tmp_path) -> None:
    path = tmp_path / "img.bin"
    with FileFlash.create(path, 8192, page_size=4096) as f:
        f.program(5, b"\x12\x34")
        f.erase(1)
    assert path.stat().st_size == 8192
    with FileFlash(path, readonly=True) as f:
        assert f.read(4, 4) == b"\xff\x12\x34\xff" and f.page_count == 2
    with pytest.raises(FlashError):
        FileFlash.create(tmp_path / "bad.bin", 5000)


@pytest.mark.parametrize(
    ("text", "n"), [("4MiB", 4 << 20), ("256KiB", 256 << 10), ("4096", 4096), ("1M", 1 << 20)]
)
def test_parse_size(text: str, n: int) -> None:
    assert parse_size(text) == n
