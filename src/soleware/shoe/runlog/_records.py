"""Run log records: fixed-size little-endian frames with a sequence number and a CRC-32.

Frame (all little-endian)::

    offset  size  field
    0       1     type (RecordType); 0xFF = erased (end of data), 0x00 = seal over a torn write
    1       1     payload length n (fixed per type, checked)
    2       4     seq (u32): data records count 1, 2, 3, ...; an ACK carries the acknowledged seq here
    6       n     payload (below)
    6+n     4     CRC-32 (zlib.crc32) of bytes 0 .. 6+n

Payloads: integers in scaled SI units. The range policy of every wire format of a stride (flash record and
Bluetooth characteristic alike, see `quantize`): a measured value is rounded to the field's resolution and saturated
to its range, NaN is stored as 0 (`soleware.gait.vocabulary.quantize`); identifiers and counts must fit.
contact_ms 0 = unknown (the engine's NaN: no foot touches the ground for 0 ms); flight_ms 0 is a real value
(walking has no flight).
Enums are numbered here, and only here: strike type 0 unknown, 1 rearfoot, 2 midfoot, 3 forefoot; gait 0 unknown,
1 walk, 2 run; side 0 left, 1 right. ::

    RUN_START  0x01  <IQI12sB   run_id, start_unix_ms, calibration_ppm (1e6 = factor 1.0),
                                firmware (ASCII, NUL padded), side                              29 B (frame 39 B)
    STRIDE     0x06  <IIIHHHHHhHB run_id, t_start_ms, t_end_ms (both since run start), stride_length_mm,
                                speed_mmps, cadence_spm_x10 (both feet, 0.1 steps/min), contact_ms, flight_ms,
                                strike_angle_deg_x10 (signed), impact_mps2_x10,
                                flags: bits 0-1 strike type, bits 2-3 gait, bit 4 side,
                                bit 5 estimated (no samples: the engine bridged a gap)          27 B (frame 37 B)
    STRIDE_V1  0x02  <IIHHHHHhHB the same without t_start_ms: written by firmware up to 0.2, read only
                                                                                                23 B (frame 33 B)
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
from typing import TYPE_CHECKING, Any, ClassVar, Self

from soleware.gait.vocabulary import Gait, Side, StrikeType, quantize

if TYPE_CHECKING:
    from soleware.gait.pipeline import Stride as GaitStride

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
    "StrideV1",
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
    STRIDE_V1 = 0x02
    RUN_END = 0x03
    OVERFLOW = 0x04
    ACK = 0x05
    STRIDE = 0x06


#: wire numbers of the stride vocabulary (the one place they are defined for the run log)
_SIDE_CODE = {Side.LEFT: 0, Side.RIGHT: 1}
_STRIKE_CODE = {None: 0, StrikeType.REARFOOT: 1, StrikeType.MIDFOOT: 2, StrikeType.FOREFOOT: 3}
_GAIT_CODE = {None: 0, Gait.WALK: 1, Gait.RUN: 2}
_SIDE_OF = {v: k for k, v in _SIDE_CODE.items()}
_STRIKE_OF = {v: k for k, v in _STRIKE_CODE.items()}
_GAIT_OF = {v: k for k, v in _GAIT_CODE.items()}


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
        if not issubclass(sub, cls):
            raise RecordError(f"expected {cls.TYPE.name}, got {sub.TYPE.name}")
        if n != sub._PAYLOAD.size:
            raise RecordError(f"{sub.TYPE.name} payload length {n}, expected {sub._PAYLOAD.size}")
        end = offset + _HEAD.size + n
        if len(data) < end + _CRC.size:
            raise RecordError("truncated frame")
        (crc,) = _CRC.unpack_from(data, end)
        if zlib.crc32(data[offset:end]) != crc:
            raise RecordError("CRC mismatch")
        return sub._from_values(seq, sub._PAYLOAD.unpack_from(data, offset + _HEAD.size))


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
        return (self.run_id, self.start_unix_ms, self.calibration_ppm, fw, _SIDE_CODE[self.side])

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        fw = v[3].rstrip(b"\x00").decode("ascii", "replace")
        return cls(
            seq=seq,
            run_id=v[0],
            start_unix_ms=v[1],
            calibration_ppm=v[2],
            firmware=fw,
            side=_SIDE_OF[v[4] & 1],
        )

    @property
    def calibration(self) -> float:
        return self.calibration_ppm / 1e6


@dataclasses.dataclass(frozen=True)
class Stride(LogRecord):
    """One stride of one foot, in scaled integer units (SI views as properties); times since the run's start.

    ``t_start_ms`` is None in records of the old firmware (`StrideV1`), which kept only the stride's end.
    ``contact_ms`` is 0 for a contact time the engine could not measure (its NaN, e.g. a foot's first stride): the
    ``contact_time_s`` view is then None (unknown), as ``t_start_s`` is for an unknown start. An ``estimated``
    stride (bridged across samples the engine never had) has length and times only: its form fields are 0.
    """

    run_id: int
    t_start_ms: int | None
    t_end_ms: int
    stride_length_mm: int
    speed_mmps: int
    cadence_spm_x10: int
    contact_ms: int
    flight_ms: int
    strike_angle_deg_x10: int
    strike_type: StrikeType | None
    impact_mps2_x10: int
    gait: Gait | None
    side: Side
    estimated: bool = False

    TYPE: ClassVar[RecordType] = RecordType.STRIDE
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<IIIHHHHHhHB")

    @classmethod
    def from_stride(
        cls, stride: GaitStride, *, seq: int, run_id: int, side: Side, t0_s: float = 0.0
    ) -> Stride:
        """The engine's stride as a record; times relative to ``t0_s`` (the run's start on the engine's clock)."""
        return cls(
            seq=seq,
            run_id=run_id,
            t_start_ms=quantize(stride.t_start_s - t0_s, 1e3, 0, U32),
            t_end_ms=quantize(stride.t_end_s - t0_s, 1e3, 0, U32),
            stride_length_mm=quantize(stride.length_m, 1e3, 0, U16),
            speed_mmps=quantize(stride.speed_mps, 1e3, 0, U16),
            cadence_spm_x10=quantize(stride.cadence_spm, 10, 0, U16),
            contact_ms=quantize(stride.contact_time_s, 1e3, 0, U16),
            flight_ms=quantize(stride.flight_time_s, 1e3, 0, U16),
            strike_angle_deg_x10=quantize(stride.strike_angle_deg, 10, -0x8000, 0x7FFF),
            strike_type=StrikeType.parse(stride.strike_type),
            impact_mps2_x10=quantize(stride.impact_mps2, 10, 0, U16),
            gait=Gait.parse(stride.gait),
            side=Side(side),
            estimated=stride.bridged,
        )

    def _flags(self) -> int:
        return (
            _STRIKE_CODE[self.strike_type]
            | _GAIT_CODE[self.gait] << 2
            | _SIDE_CODE[self.side] << 4
            | int(self.estimated) << 5
        )

    def _values(self) -> tuple[Any, ...]:
        return (
            self.run_id,
            self.t_start_ms,
            self.t_end_ms,
            self.stride_length_mm,
            self.speed_mmps,
            self.cadence_spm_x10,
            self.contact_ms,
            self.flight_ms,
            self.strike_angle_deg_x10,
            self.impact_mps2_x10,
            self._flags(),
        )

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        return cls._decode(seq, v[0], v[1], v[2:])

    @classmethod
    def _decode(cls, seq: int, run_id: int, t_start_ms: int | None, v: tuple[Any, ...]) -> Self:
        flags = v[8]
        return cls(
            seq=seq,
            run_id=run_id,
            t_start_ms=t_start_ms,
            t_end_ms=v[0],
            stride_length_mm=v[1],
            speed_mmps=v[2],
            cadence_spm_x10=v[3],
            contact_ms=v[4],
            flight_ms=v[5],
            strike_angle_deg_x10=v[6],
            impact_mps2_x10=v[7],
            strike_type=_STRIKE_OF[flags & 3],
            gait=_GAIT_OF.get((flags >> 2) & 3),
            side=_SIDE_OF[(flags >> 4) & 1],
            estimated=bool(flags >> 5 & 1),
        )

    @property
    def t_start_s(self) -> float | None:
        return None if self.t_start_ms is None else self.t_start_ms / 1e3

    @property
    def t_end_s(self) -> float:
        return self.t_end_ms / 1e3

    @property
    def length_m(self) -> float:
        return self.stride_length_mm / 1e3

    @property
    def speed_mps(self) -> float:
        return self.speed_mmps / 1e3

    @property
    def cadence_spm(self) -> float:
        return self.cadence_spm_x10 / 10

    @property
    def contact_time_s(self) -> float | None:
        """Ground contact time; None when unknown (stored as 0 ms: no foot touches the ground that briefly)."""
        return self.contact_ms / 1e3 if self.contact_ms else None

    @property
    def flight_time_s(self) -> float:
        return self.flight_ms / 1e3

    @property
    def strike_angle_deg(self) -> float:
        return self.strike_angle_deg_x10 / 10

    @property
    def impact_mps2(self) -> float:
        return self.impact_mps2_x10 / 10


@dataclasses.dataclass(frozen=True)
class StrideV1(Stride):
    """A stride record of the firmware up to 0.2 (type 0x02): no ``t_start_ms``. Read, and written only by tests."""

    TYPE: ClassVar[RecordType] = RecordType.STRIDE_V1
    _PAYLOAD: ClassVar[struct.Struct] = struct.Struct("<IIHHHHHhHB")

    def _values(self) -> tuple[Any, ...]:
        return (self.run_id, *Stride._values(self)[2:])

    @classmethod
    def _from_values(cls, seq: int, v: tuple[Any, ...]) -> Self:
        return cls._decode(seq, v[0], None, v[1:])


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
    """JSON-ready dict: ``type`` name, then the fields (enums by their lower-case word, unknown as None)."""
    out: dict[str, Any] = {"type": record.TYPE.name.lower()}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        out[f.name] = v.value if isinstance(v, enum.Enum) else v
    return out
