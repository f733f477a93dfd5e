"""Run log records: fixed-size little-endian frames with a sequence number and a CRC-32.

Frame (all little-endian)::

    offset  size  field
    0       1     type (RecordType); 0xFF = erased (end of data), 0x00 = seal over a torn write
    1       1     payload length n (fixed per type, checked)
    2       4     seq (u32): data records count 1, 2, 3, ...; an ACK carries the acknowledged seq here
    6       n     payload (below)
    6+n     4     CRC-32 (zlib.crc32) of bytes 0 .. 6+n

Payloads (integers in scaled SI units, saturated to the field's range)::

    RUN_START  0x01  <IQI12sB   run_id, start_unix_ms, calibration_ppm (1e6 = factor 1.0),
                                firmware (ASCII, NUL padded), side                              29 B (frame 39 B)
    STRIDE     0x02  <IIHHHHHhHB run_id, t_end_ms (since run start), stride_length_mm, speed_mmps,
                                cadence_spm_x10 (both feet, 0.1 steps/min), contact_ms, flight_ms,
                                strike_angle_deg_x10 (signed), impact_mps2_x10,
                                flags: bits 0-1 strike type, bits 2-3 gait, bit 4 side          23 B (frame 33 B)
    RUN_END    0x03  <IIIIII    run_id, distance_mm, moving_ms, elapsed_ms, stride_count,
                                dropped_strides (not logged because the log was full)           24 B (frame 34 B)
    OVERFLOW   0x04  <II        run_id, t_end_ms of the first stride that was dropped            8 B (frame 18 B)
    ACK        0x05  (none)     the phone has everything up to and including seq                  0 B (frame 10 B)
"""

from __future__ import annotations

import dataclasses
import enum
import struct
import zlib
from typing import Any, ClassVar, Self

__all__ = [
    "FRAME_OVERHEAD",
    "MAX_FRAME_SIZE",
    "Ack",
    "Gait",
    "LogRecord",
    "Overflow",
    "RecordError",
    "RecordType",
    "RunEnd",
    "RunStart",
    "Side",
    "StrikeType",
    "Stride",
    "record_to_dict",
]

_HEAD = struct.Struct("<BBI")
_CRC = struct.Struct("<I")
FRAME_OVERHEAD = _HEAD.size + _CRC.size
U16, U32 = 0xFFFF, 0xFFFFFFFF


class RecordError(ValueError):
    """Bytes that are not a valid record frame (wrong type, length or CRC)."""


class RecordType(enum.IntEnum):
    """Frame type byte. 0x00 and 0xFF are reserved for sealed and erased flash."""

    RUN_START = 0x01
    STRIDE = 0x02
    RUN_END = 0x03
    OVERFLOW = 0x04
    ACK = 0x05


class Side(enum.IntEnum):
    LEFT = 0
    RIGHT = 1


class StrikeType(enum.IntEnum):
    UNKNOWN = 0
    REARFOOT = 1
    MIDFOOT = 2
    FOREFOOT = 3


class Gait(enum.IntEnum):
    UNKNOWN = 0
    WALK = 1
    RUN = 2


def _sat(value: float, lo: int, hi: int) -> int:
    """``value`` rounded to an int and saturated to ``lo..hi`` (a sensor glitch must not crash the logger)."""
    v = round(value)
    return lo if v < lo else hi if v > hi else v


@dataclasses.dataclass(frozen=True)
class LogRecord:
    """Base of all records: ``bytes(record)`` is its frame, `LogRecord.from_bytes` decodes any frame."""

    seq: int

    TYPE: ClassVar[RecordType]
    _PAYLOAD: ClassVar[struct.Struct]
    _BY_TYPE: ClassVar[dict[int, type[LogRecord]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        LogRecord._BY_TYPE[cls.TYPE] = cls

    @property
    def is_data(self) -> bool:
        """Data records take sequence numbers and are sent to the phone; ACKs are bookkeeping."""
        return self.TYPE != RecordType.ACK

    def _values(self) -> tuple[Any, ...]:
        raise NotImplementedError

    @classmethod
    def _from_values(cls, seq: int, values: tuple[Any, ...]) -> Self:
        raise NotImplementedError

    @classmethod
    def frame_size(cls) -> int:
        return FRAME_OVERHEAD + cls._PAYLOAD.size

    def __bytes__(self) -> bytes:
        body = _HEAD.pack(self.TYPE, self._PAYLOAD.size, self.seq) + self._PAYLOAD.pack(*self._values())
        return body + _CRC.pack(zlib.crc32(body))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, offset: int = 0) -> Self:
        """Decode the frame at ``offset`` (extra bytes after it are ignored); raises `RecordError`."""
        if len(data) - offset < FRAME_OVERHEAD:
            raise RecordError("truncated frame")
        rtype, n, seq = _HEAD.unpack_from(data, offset)
        sub = LogRecord._BY_TYPE.get(rtype)
        if sub is None:
            raise RecordError(f"unknown record type {rtype:#04x}")
        if cls is not LogRecord and sub is not cls:
            raise RecordError(f"expected {cls.TYPE.name}, got {sub.TYPE.name}")
        if n != sub._PAYLOAD.size:
            raise RecordError(f"{sub.TYPE.name} payload length {n}, expected {sub._PAYLOAD.size}")
        end = offset + _HEAD.size + n
        if len(data) < end + _CRC.size:
            raise RecordError("truncated frame")
        (crc,) = _CRC.unpack_from(data, end)
        if zlib.crc32(data[offset:end]) != crc:
            raise RecordError("CRC mismatch")
        return sub._from_values(seq, sub._PAYLOAD.unpack_from(data, offset + _HEAD.size))  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True)
class RunStart(LogRecord):
    """A run began. ``run_id`` defaults to this record's seq (unique across restarts)."""

    run_id: int
    start_unix_ms: int
    side: Side
    firmware: str = ""
    calibration_ppm: int = 1_000_000

    TYPE: ClassVar[RecordType] = RecordType.RUN_START
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<IQI12sB")

    def _values(self) -> tuple[Any, ...]:
        fw = self.firmware.encode("ascii", "replace")[:12]
        return (self.run_id, self.start_unix_ms, self.calibration_ppm, fw, self.side)

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        fw = v[3].rstrip(b"\x00").decode("ascii", "replace")
        return cls(
            seq=seq, run_id=v[0], start_unix_ms=v[1], calibration_ppm=v[2], firmware=fw, side=Side(v[4] & 1)
        )

    @property
    def calibration(self) -> float:
        return self.calibration_ppm / 1e6


@dataclasses.dataclass(frozen=True)
class Stride(LogRecord):
    """Summary of one stride of one foot, in scaled integer units (SI views as properties)."""

    run_id: int
    t_end_ms: int
    stride_length_mm: int
    speed_mmps: int
    cadence_spm_x10: int
    contact_ms: int
    flight_ms: int
    strike_angle_deg_x10: int
    strike: StrikeType
    impact_mps2_x10: int
    gait: Gait
    side: Side

    TYPE: ClassVar[RecordType] = RecordType.STRIDE
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<IIHHHHHhHB")

    @classmethod
    def from_si(
        cls,
        *,
        seq: int,
        run_id: int,
        side: Side,
        t_end_s: float,
        stride_length_m: float,
        speed_mps: float,
        cadence_spm: float,
        contact_s: float,
        flight_s: float,
        strike_angle_deg: float = 0.0,
        strike: StrikeType | str = StrikeType.UNKNOWN,
        impact_mps2: float = 0.0,
        gait: Gait | str = Gait.RUN,
    ) -> Stride:
        """Scale SI values to the record's integers, saturating out-of-range values."""
        return cls(
            seq=seq,
            run_id=run_id,
            t_end_ms=_sat(t_end_s * 1e3, 0, U32),
            stride_length_mm=_sat(stride_length_m * 1e3, 0, U16),
            speed_mmps=_sat(speed_mps * 1e3, 0, U16),
            cadence_spm_x10=_sat(cadence_spm * 10, 0, U16),
            contact_ms=_sat(contact_s * 1e3, 0, U16),
            flight_ms=_sat(flight_s * 1e3, 0, U16),
            strike_angle_deg_x10=_sat(strike_angle_deg * 10, -0x8000, 0x7FFF),
            strike=StrikeType[strike.upper()] if isinstance(strike, str) else StrikeType(strike),
            impact_mps2_x10=_sat(impact_mps2 * 10, 0, U16),
            gait=Gait[gait.upper()] if isinstance(gait, str) else Gait(gait),
            side=Side(side),
        )

    def _values(self) -> tuple[Any, ...]:
        flags = (self.strike & 3) | (self.gait & 3) << 2 | (self.side & 1) << 4
        return (
            self.run_id,
            self.t_end_ms,
            self.stride_length_mm,
            self.speed_mmps,
            self.cadence_spm_x10,
            self.contact_ms,
            self.flight_ms,
            self.strike_angle_deg_x10,
            self.impact_mps2_x10,
            flags,
        )

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        flags = v[9]
        gait = (flags >> 2) & 3
        return cls(
            seq=seq,
            run_id=v[0],
            t_end_ms=v[1],
            stride_length_mm=v[2],
            speed_mmps=v[3],
            cadence_spm_x10=v[4],
            contact_ms=v[5],
            flight_ms=v[6],
            strike_angle_deg_x10=v[7],
            impact_mps2_x10=v[8],
            strike=StrikeType(flags & 3),
            gait=Gait(gait if gait < 3 else 0),
            side=Side((flags >> 4) & 1),
        )

    @property
    def t_end_s(self) -> float:
        return self.t_end_ms / 1e3

    @property
    def stride_length_m(self) -> float:
        return self.stride_length_mm / 1e3

    @property
    def speed_mps(self) -> float:
        return self.speed_mmps / 1e3

    @property
    def cadence_spm(self) -> float:
        return self.cadence_spm_x10 / 10

    @property
    def strike_angle_deg(self) -> float:
        return self.strike_angle_deg_x10 / 10

    @property
    def impact_mps2(self) -> float:
        return self.impact_mps2_x10 / 10


@dataclasses.dataclass(frozen=True)
class RunEnd(LogRecord):
    """A run ended; ``dropped_strides`` counts strides not logged because the log was full."""

    run_id: int
    distance_mm: int
    moving_ms: int
    elapsed_ms: int
    stride_count: int
    dropped_strides: int = 0

    TYPE: ClassVar[RecordType] = RecordType.RUN_END
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<IIIIII")

    def _values(self) -> tuple[Any, ...]:
        return (
            self.run_id,
            self.distance_mm,
            self.moving_ms,
            self.elapsed_ms,
            self.stride_count,
            self.dropped_strides,
        )

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        return cls(seq, *v)

    @property
    def distance_m(self) -> float:
        return self.distance_mm / 1e3


@dataclasses.dataclass(frozen=True)
class Overflow(LogRecord):
    """The log was full of unsynced data: stride detail of ``run_id`` stopped at ``t_end_ms``."""

    run_id: int
    t_end_ms: int

    TYPE: ClassVar[RecordType] = RecordType.OVERFLOW
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<II")

    def _values(self) -> tuple[Any, ...]:
        return (self.run_id, self.t_end_ms)

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        return cls(seq, *v)


@dataclasses.dataclass(frozen=True)
class Ack(LogRecord):
    """The phone acknowledged every data record up to and including ``seq``."""

    TYPE: ClassVar[RecordType] = RecordType.ACK
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<")

    def _values(self) -> tuple[Any, ...]:
        return ()

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        return cls(seq)


MAX_FRAME_SIZE = max(c.frame_size() for c in LogRecord._BY_TYPE.values())


def record_to_dict(record: LogRecord) -> dict[str, Any]:
    """JSON-ready dict: ``type`` name, then the fields (enums by lower-case name)."""
    out: dict[str, Any] = {"type": record.TYPE.name.lower()}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        out[f.name] = v.name.lower() if isinstance(v, enum.IntEnum) else v
    return out
