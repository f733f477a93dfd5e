"""The Soleware GATT service: what the standard Running Speed and Cadence service has no field for.

Characteristics (128-bit UUIDs on one base, see ``docs/ble.md``):

- Stride Detail (notify, open): one :class:`StrideDetail` per stride of this shoe's foot.
- Raw Samples (notify, encrypted link): :class:`RawSamples` batches of int16 IMU samples.
- Run Log Control Point (write + indicate, encrypted link) and Run Log Data (notify, encrypted link): list the
  stored runs, stream records from a sequence number with credit-based flow control, acknowledge records.
- Time Sync (write, encrypted link): the phone's clock as Unix time in ms.

"Encrypted link" means Bumble's ``READ/WRITE_REQUIRES_ENCRYPTION`` permissions, which the phone satisfies by
pairing (LE Secure Connections, bonded). For notifications the CCCD write is what must be refused: Bumble's
automatic CCCD is always writable, so these characteristics carry their own CCCD with
``WRITE_REQUIRES_ENCRYPTION`` that forwards to the server's subscription table.

The run log itself stays abstract: the service reads it through :class:`RunLogSource`.
"""

# -----------------------------------------------------------------------------
# Imports
# -----------------------------------------------------------------------------
from __future__ import annotations

import asyncio
import binascii
import collections
import contextlib
import dataclasses
import logging
import math
import struct
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from bumble import att, core, device, gatt, gatt_adapters, gatt_client, utils

from soleware.gait.vocabulary import Gait, Side, StrikeType, quantize
from soleware.link.gatt import (
    ApplicationError,
    ControlPointClient,
    call,
    check_integer,
    gatt_server_of,
    indications_enabled,
    notifications_enabled,
    spawn,
)

if TYPE_CHECKING:
    from soleware.gait.pipeline import Stride as GaitStride

__all__ = [
    "RAW_SAMPLES_CHARACTERISTIC",
    "RUN_LOG_CONTROL_POINT_CHARACTERISTIC",
    "RUN_LOG_DATA_CHARACTERISTIC",
    "SOLEWARE_SERVICE",
    "STRIDE_DETAIL_CHARACTERISTIC",
    "TIME_SYNC_CHARACTERISTIC",
    "RawSamples",
    "RunInfo",
    "RunLogError",
    "RunLogOpcode",
    "RunLogResponseValue",
    "RunLogSource",
    "SolewareService",
    "SolewareServiceProxy",
    "StrideDetail",
    "crc16",
    "decode_frames",
    "encode_frame",
    "soleware_uuid",
]

logger = logging.getLogger(__name__)
_V = TypeVar("_V")

# -----------------------------------------------------------------------------
# Constants
# -----------------------------------------------------------------------------
#: All Soleware UUIDs are this random (version 4) UUID with bytes 2..3 replaced by a 16-bit alias.
SOLEWARE_BASE_UUID = "6b94{:04x}-364d-4037-8cc7-5a7c676b25b3"


def soleware_uuid(alias: int, name: str) -> core.UUID:
    """The 128-bit Soleware UUID for a 16-bit ``alias``."""
    return core.UUID(SOLEWARE_BASE_UUID.format(alias), name)


# fmt: off
SOLEWARE_SERVICE                     = soleware_uuid(0x0001, "Soleware")
STRIDE_DETAIL_CHARACTERISTIC         = soleware_uuid(0x0002, "Stride Detail")
RAW_SAMPLES_CHARACTERISTIC           = soleware_uuid(0x0003, "Raw Samples")
RUN_LOG_CONTROL_POINT_CHARACTERISTIC = soleware_uuid(0x0004, "Run Log Control Point")
RUN_LOG_DATA_CHARACTERISTIC          = soleware_uuid(0x0005, "Run Log Data")
TIME_SYNC_CHARACTERISTIC             = soleware_uuid(0x0006, "Time Sync")
# fmt: on

#: ATT MTU the proxy asks for; Stride Detail (23 bytes) needs at least 26, the run log at least 64.
PREFERRED_MTU = 247
MIN_MTU = 64

#: Time a client waits for a control point response or the next run-log notification.
RUN_LOG_TIMEOUT_S = 10.0

_UINT8_MAX = 0xFF
_UINT16_MAX = 0xFFFF
_UINT32_MAX = 0xFFFF_FFFF
_UINT64_MAX = 0xFFFF_FFFF_FFFF_FFFF
_INT16_MIN, _INT16_MAX = -0x8000, 0x7FFF

#: ``last_seq`` in a Read response when no record was sent.
NO_SEQ = _UINT32_MAX


#: Stride Detail's numbers for the stride vocabulary (``soleware.gait.vocabulary``); 0 is unknown, and so is any
#: number a newer shoe may send that this side does not know.
_STRIKE_CODE = {None: 0, StrikeType.REARFOOT: 1, StrikeType.MIDFOOT: 2, StrikeType.FOREFOOT: 3}
_SIDE_CODE = {None: 0, Side.LEFT: 1, Side.RIGHT: 2}
_GAIT_CODE = {None: 0, Gait.WALK: 1, Gait.RUN: 2}
_STRIKE_OF = {v: k for k, v in _STRIKE_CODE.items()}
_SIDE_OF = {v: k for k, v in _SIDE_CODE.items()}
_GAIT_OF = {v: k for k, v in _GAIT_CODE.items()}


class RunLogOpcode(utils.OpenIntEnum):
    """Run Log Control Point op codes; see ``docs/ble.md`` for parameters and responses."""

    # fmt: off
    LIST_RUNS     = 0x01
    READ          = 0x02
    ACK           = 0x03
    GRANT_CREDITS = 0x04
    ABORT         = 0x05
    RESPONSE_CODE = 0x10
    # fmt: on


class RunLogResponseValue(utils.OpenIntEnum):
    """Response values; 1..4 mean the same as the SC Control Point's."""

    # fmt: off
    SUCCESS               = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_PARAMETER     = 0x03
    OPERATION_FAILED      = 0x04
    ABORTED               = 0x05
    # fmt: on


class RunLogError(core.BaseBumbleError):
    """The run log transfer failed: error response, CRC mismatch, sequence out of order, timeout."""


# -----------------------------------------------------------------------------
# Codecs
# -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StrideDetail:
    """One stride of one foot, in SI units; ``bytes()`` quantises to the wire resolution.

    Wire (23 bytes, little endian): seq uint32, t_end uint32 (ms), contact time uint16 (ms), flight time
    uint16 (ms), strike angle int16 (0.1 deg), strike type uint8, impact uint16 (0.1 m/s^2), side uint8,
    gait uint8, stride length uint16 (mm), speed uint16 (mm/s). Measured values saturate to their fields
    (`quantize`); strike type, side and gait are 0 when unknown.

    Contact time 0 = unknown: the engine's NaN (a contact time it could not measure, e.g. a foot's first stride,
    which leaves a stance that began before the run) is sent as 0 ms, and no foot touches the ground that briefly,
    so 0 ms decodes to NaN, not to 0 s (and NaN encodes to 0 ms again). Flight time 0 is a real value: walking has
    no flight.
    """

    seq: int
    t_end_s: float
    contact_time_s: float
    flight_time_s: float
    strike_angle_deg: float
    strike_type: StrikeType | None
    impact_mps2: float
    side: Side | None
    gait: Gait | None
    length_m: float
    speed_mps: float

    FORMAT = struct.Struct("<IIHHhBHBBHH")

    def __post_init__(self) -> None:
        check_integer("seq", self.seq, _UINT32_MAX)

    @classmethod
    def from_stride(cls, stride: GaitStride, *, seq: int, side: Side | None) -> Self:
        """The engine's stride (times on the shoe's clock) as the shoe notifies it."""
        return cls(
            seq=seq,
            t_end_s=stride.t_end_s,
            contact_time_s=stride.contact_time_s,
            flight_time_s=stride.flight_time_s,
            strike_angle_deg=stride.strike_angle_deg,
            strike_type=StrikeType.parse(stride.strike_type),
            impact_mps2=stride.impact_mps2,
            side=side,
            gait=Gait.parse(stride.gait),
            length_m=stride.length_m,
            speed_mps=stride.speed_mps,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) != cls.FORMAT.size:
            raise core.InvalidArgumentError(f"Stride Detail is {cls.FORMAT.size} bytes, got {len(data)}")
        seq, t_end, contact, flight, angle, strike, impact, side, gait, length, speed = cls.FORMAT.unpack(
            data
        )
        return cls(
            seq=seq,
            t_end_s=t_end / 1000,
            contact_time_s=contact / 1000 if contact else math.nan,
            flight_time_s=flight / 1000,
            strike_angle_deg=angle / 10,
            strike_type=_STRIKE_OF.get(strike),
            impact_mps2=impact / 10,
            side=_SIDE_OF.get(side),
            gait=_GAIT_OF.get(gait),
            length_m=length / 1000,
            speed_mps=speed / 1000,
        )

    def __bytes__(self) -> bytes:
        return self.FORMAT.pack(
            self.seq,
            quantize(self.t_end_s, 1000, 0, _UINT32_MAX),
            quantize(self.contact_time_s, 1000, 0, _UINT16_MAX),
            quantize(self.flight_time_s, 1000, 0, _UINT16_MAX),
            quantize(self.strike_angle_deg, 10, _INT16_MIN, _INT16_MAX),
            _STRIKE_CODE[self.strike_type],
            quantize(self.impact_mps2, 10, 0, _UINT16_MAX),
            _SIDE_CODE[self.side],
            _GAIT_CODE[self.gait],
            quantize(self.length_m, 1000, 0, _UINT16_MAX),
            quantize(self.speed_mps, 1000, 0, _UINT16_MAX),
        )


@dataclasses.dataclass(frozen=True)
class RawSamples:
    """A batch of raw int16 samples: start counter uint32 (index of the first frame), channel count uint8,
    then frames of ``channels`` interleaved int16 samples."""

    start_counter: int
    channels: int
    samples: tuple[int, ...]

    def __post_init__(self) -> None:
        check_integer("start_counter", self.start_counter, _UINT32_MAX)
        check_integer("channels", self.channels, _UINT8_MAX, 1)
        if len(self.samples) % self.channels:
            raise core.InvalidArgumentError(
                f"{len(self.samples)} samples is not whole frames of {self.channels}"
            )
        for sample in self.samples:
            check_integer("samples[]", sample, _INT16_MAX, _INT16_MIN)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) < 5 or (len(data) - 5) % 2:
            raise core.InvalidArgumentError(f"malformed Raw Samples ({len(data)} bytes)")
        start_counter, channels = struct.unpack_from("<IB", data)
        n = (len(data) - 5) // 2
        return cls(start_counter, channels, struct.unpack_from(f"<{n}h", data, 5))

    def __bytes__(self) -> bytes:
        return struct.pack(f"<IB{len(self.samples)}h", self.start_counter, self.channels, *self.samples)


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """A stored run, as listed by the run log: id, start (Unix ms), first and last record sequence numbers."""

    run_id: int
    start_unix_ms: int
    first_seq: int
    last_seq: int

    FORMAT = struct.Struct("<IQII")

    def __post_init__(self) -> None:
        check_integer("run_id", self.run_id, _UINT32_MAX)
        check_integer("start_unix_ms", self.start_unix_ms, _UINT64_MAX)
        check_integer("first_seq", self.first_seq, _UINT32_MAX)
        check_integer("last_seq", self.last_seq, _UINT32_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(*cls.FORMAT.unpack(data))

    def __bytes__(self) -> bytes:
        return self.FORMAT.pack(self.run_id, self.start_unix_ms, self.first_seq, self.last_seq)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection): ``crc16(b"123456789") == 0x29B1``."""
    return binascii.crc_hqx(data, 0xFFFF)


#: Frame around one record in Run Log Data: seq uint32, length uint16, payload, CRC-16 of seq+length+payload.
_FRAME_HEADER = struct.Struct("<IH")
FRAME_OVERHEAD = _FRAME_HEADER.size + 2


def encode_frame(seq: int, payload: bytes) -> bytes:
    """Frame one run-log record."""
    check_integer("seq", seq, _UINT32_MAX)
    if len(payload) > _UINT16_MAX:
        raise core.InvalidArgumentError(f"record of {len(payload)} bytes exceeds 65535")
    body = _FRAME_HEADER.pack(seq, len(payload)) + payload
    return body + struct.pack("<H", crc16(body))


def decode_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The records of one Run Log Data notification; RunLogError on truncation or CRC mismatch."""
    records = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < FRAME_OVERHEAD:
            raise RunLogError(f"truncated frame header at byte {offset}")
        seq, length = _FRAME_HEADER.unpack_from(data, offset)
        end = offset + _FRAME_HEADER.size + length
        if end + 2 > len(data):
            raise RunLogError(f"truncated record {seq}")
        (crc,) = struct.unpack_from("<H", data, end)
        if crc != crc16(data[offset:end]):
            raise RunLogError(f"CRC mismatch in record {seq}")
        records.append((seq, bytes(data[offset + _FRAME_HEADER.size : end])))
        offset = end + 2
    return records


class RunLogSource(Protocol):
    """What the service needs from the shoe's run log (flash); the real one lives in ``soleware.shoe``."""

    def list_runs(self) -> Sequence[RunInfo]:
        """The stored runs, oldest first."""
        ...

    def read_from(self, seq: int, max_records: int) -> Sequence[tuple[int, bytes]]:
        """Up to ``max_records`` records with sequence number ``>= seq``, ascending; empty when none is left."""
        ...

    def ack(self, seq: int) -> None:
        """The phone holds every record up to and including ``seq``; the shoe may free them."""
        ...


def _encrypted_cccd(characteristic: gatt.Characteristic[_V]) -> None:
    """Give ``characteristic`` a CCCD that can only be written on an encrypted link (Bumble's default can't)."""
    characteristic.descriptors = [
        *characteristic.descriptors,
        gatt.Descriptor(
            gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
            gatt.Descriptor.READABLE | gatt.Descriptor.WRITEABLE | gatt.Descriptor.WRITE_REQUIRES_ENCRYPTION,
            att.AttributeValueV2(
                read=lambda bearer: gatt_server_of(bearer).read_cccd(bearer, characteristic),
                write=lambda bearer, value: gatt_server_of(bearer).write_cccd(bearer, characteristic, value),
            ),
        ),
    ]


def _response(opcode: int, value: RunLogResponseValue, parameter: bytes = b"") -> bytes:
    return bytes([RunLogOpcode.RESPONSE_CODE, opcode, value]) + parameter


# -----------------------------------------------------------------------------
# Server
# -----------------------------------------------------------------------------
@dataclasses.dataclass
class _Transfer:
    """One Read procedure in progress on one bearer."""

    credits: int
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    aborted: bool = False

    def grant(self, credits: int) -> None:
        self.credits += credits
        self.wake.set()

    def abort(self) -> None:
        self.aborted = True
        self.wake.set()

    async def take_credit(self) -> None:
        while self.credits <= 0 and not self.aborted:
            self.wake.clear()
            await self.wake.wait()
        self.credits -= 1


class SolewareService(gatt.TemplateService):
    """Soleware server. Characteristics are left out when their backing is not given.

    Parameters
    ----------
    run_log
        Backing store of the Run Log characteristics; ``None`` leaves them out.
    on_time_sync
        ``callback(unix_ms)`` (sync or async) for Time Sync writes; ``None`` leaves the characteristic out.
    raw_samples
        Whether to offer the Raw Samples characteristic.
    records_per_read
        How many records the service asks ``run_log.read_from`` for at a time.
    """

    UUID = SOLEWARE_SERVICE

    stride_detail_characteristic: gatt.Characteristic[StrideDetail]
    raw_samples_characteristic: gatt.Characteristic[RawSamples] | None
    run_log_control_point_characteristic: gatt.Characteristic[bytes] | None
    run_log_data_characteristic: gatt.Characteristic[bytes] | None
    time_sync_characteristic: gatt.Characteristic[bytes] | None

    def __init__(
        self,
        *,
        run_log: RunLogSource | None = None,
        on_time_sync: Callable[[int], Any] | None = None,
        raw_samples: bool = False,
        records_per_read: int = 16,
    ) -> None:
        self.run_log = run_log
        self.on_time_sync = on_time_sync
        self.records_per_read = records_per_read
        self._transfers: dict[att.Bearer, _Transfer] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

        properties = gatt.Characteristic.Properties
        self.stride_detail_characteristic = gatt_adapters.SerializableCharacteristicAdapter(
            gatt.Characteristic(
                STRIDE_DETAIL_CHARACTERISTIC,
                properties=properties.NOTIFY,
                permissions=gatt.Characteristic.Permissions(0),
            ),
            StrideDetail,
        )
        characteristics: list[gatt.Characteristic[Any]] = [self.stride_detail_characteristic]

        self.raw_samples_characteristic = None
        if raw_samples:
            self.raw_samples_characteristic = gatt_adapters.SerializableCharacteristicAdapter(
                gatt.Characteristic(
                    RAW_SAMPLES_CHARACTERISTIC,
                    properties=properties.NOTIFY,
                    permissions=gatt.Characteristic.READ_REQUIRES_ENCRYPTION,
                ),
                RawSamples,
            )
            _encrypted_cccd(self.raw_samples_characteristic)
            characteristics.append(self.raw_samples_characteristic)

        self.run_log_control_point_characteristic = self.run_log_data_characteristic = None
        if run_log is not None:
            self.run_log_control_point_characteristic = gatt.Characteristic(
                RUN_LOG_CONTROL_POINT_CHARACTERISTIC,
                properties=properties.WRITE | properties.INDICATE,
                permissions=gatt.Characteristic.WRITEABLE | gatt.Characteristic.WRITE_REQUIRES_ENCRYPTION,
                # Bumble's Characteristic hint omits the AttributeValueV2 its Attribute accepts
                value=att.AttributeValueV2(write=self._on_write_run_log_control_point),  # type: ignore[arg-type]
            )
            _encrypted_cccd(self.run_log_control_point_characteristic)
            self.run_log_data_characteristic = gatt.Characteristic(
                RUN_LOG_DATA_CHARACTERISTIC,
                properties=properties.NOTIFY,
                permissions=gatt.Characteristic.READ_REQUIRES_ENCRYPTION,
            )
            _encrypted_cccd(self.run_log_data_characteristic)
            characteristics += [self.run_log_control_point_characteristic, self.run_log_data_characteristic]

        self.time_sync_characteristic = None
        if on_time_sync is not None:
            self.time_sync_characteristic = gatt.Characteristic(
                TIME_SYNC_CHARACTERISTIC,
                properties=properties.WRITE,
                permissions=gatt.Characteristic.WRITEABLE | gatt.Characteristic.WRITE_REQUIRES_ENCRYPTION,
                value=gatt.CharacteristicValue(write=self._on_write_time_sync),
            )
            characteristics.append(self.time_sync_characteristic)

        super().__init__(characteristics)

    # -- streams -----------------------------------------------------------------------------------------------
    async def notify_stride(self, device: device.Device, stride: StrideDetail) -> None:
        """Send ``stride`` to every subscriber (needs an ATT MTU of 26 or more, else Bumble truncates it)."""
        await device.notify_subscribers(self.stride_detail_characteristic, stride)

    async def notify_raw_samples(self, device: device.Device, batch: RawSamples) -> None:
        """Send ``batch`` to every subscriber (subscribing required an encrypted link)."""
        if self.raw_samples_characteristic is None:
            raise core.InvalidStateError("service was built without raw_samples")
        await device.notify_subscribers(self.raw_samples_characteristic, batch)

    # -- time sync ---------------------------------------------------------------------------------------------
    async def _on_write_time_sync(self, _connection: device.Connection, value: bytes) -> None:
        if len(value) != 8:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        assert self.on_time_sync is not None
        await call(self.on_time_sync, struct.unpack("<Q", value)[0])

    # -- run log -----------------------------------------------------------------------------------------------
    def _spawn(self, bearer: att.Bearer, coroutine: Any) -> None:
        spawn(self._tasks, bearer, coroutine)

    async def _indicate(self, bearer: att.Bearer, value: bytes) -> None:
        assert self.run_log_control_point_characteristic is not None
        await gatt_server_of(bearer).indicate_subscriber(
            bearer, self.run_log_control_point_characteristic, value
        )

    def _on_write_run_log_control_point(self, bearer: att.Bearer, value: bytes) -> None:
        assert (
            self.run_log_control_point_characteristic is not None
            and self.run_log_data_characteristic is not None
        )
        if not indications_enabled(bearer, self.run_log_control_point_characteristic):
            raise att.ATT_Error(ApplicationError.CCCD_IMPROPERLY_CONFIGURED)
        if not value:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        opcode, parameter = RunLogOpcode(value[0]), bytes(value[1:])
        transfer = self._transfers.get(bearer)

        if opcode == RunLogOpcode.GRANT_CREDITS:
            if len(parameter) != 2:
                raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
            if transfer is not None:
                transfer.grant(struct.unpack("<H", parameter)[0])
            return
        if opcode == RunLogOpcode.ABORT:
            if transfer is not None:
                transfer.abort()
            return
        if opcode in (RunLogOpcode.LIST_RUNS, RunLogOpcode.READ) and transfer is not None:
            raise att.ATT_Error(ApplicationError.PROCEDURE_ALREADY_IN_PROGRESS)

        if opcode == RunLogOpcode.READ:
            if len(parameter) != 10:
                self._spawn(
                    bearer, self._indicate(bearer, _response(opcode, RunLogResponseValue.INVALID_PARAMETER))
                )
                return
            if not notifications_enabled(bearer, self.run_log_data_characteristic):
                raise att.ATT_Error(ApplicationError.CCCD_IMPROPERLY_CONFIGURED)
            from_seq, max_records, credits = struct.unpack("<IIH", parameter)
            transfer = self._transfers[bearer] = _Transfer(credits)
            self._spawn(bearer, self._run_read(bearer, transfer, from_seq, max_records))
            return

        if opcode == RunLogOpcode.LIST_RUNS:
            response = self._list_runs(bearer, parameter)
        elif opcode == RunLogOpcode.ACK:
            response = self._ack(parameter)
        else:
            response = _response(opcode, RunLogResponseValue.OP_CODE_NOT_SUPPORTED)
        self._spawn(bearer, self._indicate(bearer, response))

    def _list_runs(self, bearer: att.Bearer, parameter: bytes) -> bytes:
        opcode = RunLogOpcode.LIST_RUNS
        if len(parameter) != 2:
            return _response(opcode, RunLogResponseValue.INVALID_PARAMETER)
        (start,) = struct.unpack("<H", parameter)
        assert self.run_log is not None
        try:
            runs = list(self.run_log.list_runs())
        except Exception:
            logger.exception("run_log.list_runs failed")
            return _response(opcode, RunLogResponseValue.OPERATION_FAILED)
        if start > len(runs):
            return _response(opcode, RunLogResponseValue.INVALID_PARAMETER)
        room = (bearer.att_mtu - 3 - 3 - 3) // RunInfo.FORMAT.size  # ATT header, response header, total+count
        page = runs[start : start + room]
        if len(runs) > _UINT16_MAX or (not page and start < len(runs)):
            return _response(opcode, RunLogResponseValue.OPERATION_FAILED)
        body = struct.pack("<HB", len(runs), len(page)) + b"".join(bytes(run) for run in page)
        return _response(opcode, RunLogResponseValue.SUCCESS, body)

    def _ack(self, parameter: bytes) -> bytes:
        opcode = RunLogOpcode.ACK
        if len(parameter) != 4:
            return _response(opcode, RunLogResponseValue.INVALID_PARAMETER)
        assert self.run_log is not None
        try:
            self.run_log.ack(struct.unpack("<I", parameter)[0])
        except Exception:
            logger.exception("run_log.ack failed")
            return _response(opcode, RunLogResponseValue.OPERATION_FAILED)
        return _response(opcode, RunLogResponseValue.SUCCESS)

    async def _run_read(
        self, bearer: att.Bearer, transfer: _Transfer, from_seq: int, max_records: int
    ) -> None:
        """Stream records as Run Log Data notifications, one credit per notification, then indicate the result."""
        assert self.run_log is not None and self.run_log_data_characteristic is not None
        sent, last_seq, next_seq = 0, NO_SEQ, from_seq
        status = RunLogResponseValue.SUCCESS
        pending: collections.deque[tuple[int, bytes]] = collections.deque()
        server = gatt_server_of(bearer)

        def refill() -> None:
            nonlocal next_seq
            if not pending and sent < max_records:
                assert self.run_log is not None
                records = self.run_log.read_from(next_seq, min(self.records_per_read, max_records - sent))
                for seq, payload in records:
                    if seq < next_seq:
                        raise RunLogError(f"run log returned seq {seq} < {next_seq}")
                    next_seq = seq + 1
                    pending.append((seq, payload))

        try:
            refill()
            while pending:
                await transfer.take_credit()
                if transfer.aborted:
                    status = RunLogResponseValue.ABORTED
                    break
                room = bearer.att_mtu - 3
                notification = bytearray()
                while pending:
                    frame = encode_frame(*pending[0])
                    if len(notification) + len(frame) > room:
                        break
                    notification += frame
                    last_seq = pending.popleft()[0]
                    sent += 1
                    refill()
                if not notification:
                    raise RunLogError(f"record {pending[0][0]} does not fit an ATT MTU of {bearer.att_mtu}")
                await server.notify_subscriber(bearer, self.run_log_data_characteristic, bytes(notification))
        except Exception:
            logger.exception("run log read failed")
            status = RunLogResponseValue.OPERATION_FAILED
        finally:
            self._transfers.pop(bearer, None)
        await self._indicate(bearer, _response(RunLogOpcode.READ, status, struct.pack("<II", sent, last_seq)))


# -----------------------------------------------------------------------------
# Client
# -----------------------------------------------------------------------------
class SolewareServiceProxy(gatt_client.ProfileServiceProxy):
    """Client of :class:`SolewareService`; attribute names mirror the server's."""

    SERVICE_CLASS = SolewareService

    stride_detail: gatt_client.CharacteristicProxy[StrideDetail]
    raw_samples: gatt_client.CharacteristicProxy[RawSamples] | None
    run_log_control_point: gatt_client.CharacteristicProxy[bytes] | None
    run_log_data: gatt_client.CharacteristicProxy[bytes] | None
    time_sync: gatt_client.CharacteristicProxy[int] | None

    def __init__(self, service_proxy: gatt_client.ServiceProxy) -> None:
        self.service_proxy = service_proxy
        self.stride_detail = gatt_adapters.SerializableCharacteristicProxyAdapter(
            service_proxy.get_required_characteristic_by_uuid(STRIDE_DETAIL_CHARACTERISTIC), StrideDetail
        )
        self.raw_samples = None
        if characteristics := service_proxy.get_characteristics_by_uuid(RAW_SAMPLES_CHARACTERISTIC):
            self.raw_samples = gatt_adapters.SerializableCharacteristicProxyAdapter(
                characteristics[0], RawSamples
            )
        self.run_log_control_point = self.run_log_data = None
        self._control_point: ControlPointClient | None = None
        if characteristics := service_proxy.get_characteristics_by_uuid(RUN_LOG_CONTROL_POINT_CHARACTERISTIC):
            self.run_log_control_point = characteristics[0]
            self._control_point = ControlPointClient(characteristics[0])
        if characteristics := service_proxy.get_characteristics_by_uuid(RUN_LOG_DATA_CHARACTERISTIC):
            self.run_log_data = characteristics[0]
        self.time_sync = None
        if characteristics := service_proxy.get_characteristics_by_uuid(TIME_SYNC_CHARACTERISTIC):
            # Bumble: PackedCharacteristicProxyAdapter.__init__ is unannotated
            self.time_sync = gatt_adapters.PackedCharacteristicProxyAdapter(  # type: ignore[no-untyped-call]
                characteristics[0], pack_format="<Q"
            )

    async def ensure_mtu(self, mtu: int = PREFERRED_MTU) -> int:
        """Ask for a larger ATT MTU if the current one is below :data:`MIN_MTU`; return the MTU in use."""
        client = self.service_proxy.client
        if client.mtu < MIN_MTU:
            await client.request_mtu(mtu)
        return client.mtu

    async def subscribe_strides(self, callback: Callable[[StrideDetail], Any]) -> None:
        """Enable Stride Detail notifications; ``callback`` gets each decoded :class:`StrideDetail`."""
        await self.ensure_mtu()
        await self.stride_detail.subscribe(callback)

    async def subscribe_raw_samples(self, callback: Callable[[RawSamples], Any]) -> None:
        """Enable Raw Samples notifications (the link must be encrypted first)."""
        if self.raw_samples is None:
            raise core.InvalidStateError("server offers no Raw Samples")
        await self.ensure_mtu()
        await self.raw_samples.subscribe(callback)

    async def set_time(self, unix_ms: int) -> None:
        """Write the Time Sync characteristic (Unix time in ms, uint64)."""
        if self.time_sync is None:
            raise core.InvalidStateError("server offers no Time Sync")
        check_integer("unix_ms", unix_ms, _UINT64_MAX)
        await self.time_sync.write_value(unix_ms, with_response=True)

    def _run_log(self) -> tuple[ControlPointClient, gatt_client.CharacteristicProxy[bytes]]:
        if self._control_point is None or self.run_log_data is None:
            raise core.InvalidStateError("server offers no run log")
        return self._control_point, self.run_log_data

    async def _request(self, request: bytes) -> tuple[RunLogResponseValue, bytes]:
        control_point, _ = self._run_log()
        await self.ensure_mtu()
        response = await control_point.request(request, timeout_s=RUN_LOG_TIMEOUT_S)
        return RunLogResponseValue(response[2]), response[3:]

    async def list_runs(self) -> list[RunInfo]:
        """All runs stored on the shoe, fetched page by page."""
        runs: list[RunInfo] = []
        while True:
            status, body = await self._request(struct.pack("<BH", RunLogOpcode.LIST_RUNS, len(runs)))
            if status != RunLogResponseValue.SUCCESS:
                raise RunLogError(f"List Runs: {status!r}")
            total, count = struct.unpack_from("<HB", body)
            size = RunInfo.FORMAT.size
            runs += [RunInfo.from_bytes(body[3 + i * size : 3 + (i + 1) * size]) for i in range(count)]
            if len(runs) >= total or count == 0:
                return runs

    async def ack(self, seq: int) -> RunLogResponseValue:
        """Tell the shoe every record up to and including ``seq`` is safe on the phone."""
        check_integer("seq", seq, _UINT32_MAX)
        status, _ = await self._request(struct.pack("<BI", RunLogOpcode.ACK, seq))
        return status

    async def sync(
        self, from_seq: int = 0, *, max_records: int = _UINT32_MAX, window: int = 8
    ) -> AsyncGenerator[tuple[int, bytes], None]:
        """Records ``(seq, payload)`` from ``from_seq`` on, ascending, until the shoe has none left.

        Flow control: the shoe may send ``window`` notifications ahead; the proxy returns credits as the caller
        consumes records. Leaving the loop early aborts the transfer on the shoe (close the iterator, e.g. with
        ``contextlib.aclosing``, for that to happen promptly). Raises :class:`RunLogError` on an error response,
        a CRC mismatch, a gap in the count or a timeout.
        """
        control_point, data = self._run_log()
        check_integer("from_seq", from_seq, _UINT32_MAX)
        check_integer("max_records", max_records, _UINT32_MAX)
        check_integer("window", window, _UINT16_MAX, 1)
        await self.ensure_mtu()
        events: asyncio.Queue[tuple[bool, bytes]] = asyncio.Queue()

        def on_data(value: bytes) -> None:
            events.put_nowait((False, bytes(value)))

        def on_response(value: bytes) -> None:
            events.put_nowait((True, value))

        async with control_point.lock(RunLogOpcode.READ):
            await data.subscribe(on_data)
            control_point.route(RunLogOpcode.READ, on_response)
            finished = False
            try:
                await control_point.write(
                    struct.pack("<BIIH", RunLogOpcode.READ, from_seq, max_records, window)
                )
                received, consumed, last = 0, 0, -1
                while True:
                    try:
                        is_response, value = await asyncio.wait_for(events.get(), RUN_LOG_TIMEOUT_S)
                    except TimeoutError as error:
                        raise RunLogError("run log transfer timed out") from error
                    if is_response:
                        finished = True
                        status = RunLogResponseValue(value[2])
                        if status != RunLogResponseValue.SUCCESS:
                            raise RunLogError(f"Read: {status!r}")
                        sent, _ = struct.unpack_from("<II", value, 3)
                        if sent != received:
                            raise RunLogError(f"shoe sent {sent} records, {received} arrived")
                        return
                    for seq, payload in decode_frames(value):
                        if seq < from_seq or seq <= last:
                            raise RunLogError(f"record {seq} out of order after {last}")
                        last = seq
                        received += 1
                        yield seq, payload
                    consumed += 1
                    if consumed >= max(1, window // 2):
                        await control_point.write(struct.pack("<BH", RunLogOpcode.GRANT_CREDITS, consumed))
                        consumed = 0
            finally:
                if not finished:
                    await self._abort(control_point, events)
                control_point.route(RunLogOpcode.READ, None)
                with contextlib.suppress(Exception):
                    await data.unsubscribe(on_data)

    @staticmethod
    async def _abort(control_point: ControlPointClient, events: asyncio.Queue[tuple[bool, bytes]]) -> None:
        """Stop the shoe's transfer and wait for its final Read response, so it can't answer a later Read."""
        with contextlib.suppress(Exception):
            await control_point.write(bytes([RunLogOpcode.ABORT]))
            async with asyncio.timeout(RUN_LOG_TIMEOUT_S):
                while not (await events.get())[0]:
                    pass
