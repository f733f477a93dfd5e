"""Running Speed and Cadence service (RSCS 1.0, UUID 0x1814) on the Bumble host stack.

Server (:class:`RunningSpeedAndCadenceService`), codecs (:class:`RscMeasurement`, :class:`ScControlPointRequest`,
:class:`ScControlPointResponse`) and client proxy (:class:`RunningSpeedAndCadenceServiceProxy`), shaped like
``bumble.profiles.heart_rate_service``. Bumble ships only the service UUID, so the characteristic UUIDs are
declared here.

Cadence on the wire is in steps per minute of *both* feet, as the profile defines it. One shoe only feels its own
foot, so it measures strides per minute of one foot; the doubling happens in exactly one place,
:meth:`RunningSpeedAndCadenceService.measurement_from_foot` (used by :meth:`~RunningSpeedAndCadenceService.update`).
The codec itself carries what is sent.
"""

# -----------------------------------------------------------------------------
# Imports
# -----------------------------------------------------------------------------
from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

from bumble import att, core, device, gatt, gatt_adapters, gatt_client, utils

from soleware.gait.vocabulary import quantize
from soleware.link.gatt import (
    CONTROL_POINT_TIMEOUT_S,
    ApplicationError,
    ControlPointClient,
    call,
    check_integer,
    encode_scaled,
    indicate,
    indications_enabled,
    spawn,
)

__all__ = [
    "RSC_FEATURE_CHARACTERISTIC",
    "RSC_MEASUREMENT_CHARACTERISTIC",
    "SC_CONTROL_POINT_CHARACTERISTIC",
    "SENSOR_LOCATION_CHARACTERISTIC",
    "ApplicationError",
    "RscFeature",
    "RscMeasurement",
    "RunningSpeedAndCadenceService",
    "RunningSpeedAndCadenceServiceProxy",
    "ScControlPointRequest",
    "ScControlPointResponse",
    "ScOpcode",
    "ScResponseValue",
    "SensorLocation",
]

logger = logging.getLogger(__name__)

# -----------------------------------------------------------------------------
# Constants
# -----------------------------------------------------------------------------
# fmt: off
RSC_MEASUREMENT_CHARACTERISTIC  = core.UUID.from_16_bits(0x2A53, "RSC Measurement")
RSC_FEATURE_CHARACTERISTIC      = core.UUID.from_16_bits(0x2A54, "RSC Feature")
SC_CONTROL_POINT_CHARACTERISTIC = core.UUID.from_16_bits(0x2A55, "SC Control Point")
SENSOR_LOCATION_CHARACTERISTIC  = core.UUID.from_16_bits(0x2A5D, "Sensor Location")
# fmt: on

_UINT8_MAX = 0xFF
_UINT16_MAX = 0xFFFF
_UINT32_MAX = 0xFFFF_FFFF


class SensorLocation(utils.OpenIntEnum):
    """Sensor Location (0x2A5D) values, Bluetooth Assigned Numbers / GSS ``sensor_location``."""

    # fmt: off
    OTHER        = 0
    TOP_OF_SHOE  = 1
    IN_SHOE      = 2
    HIP          = 3
    FRONT_WHEEL  = 4
    LEFT_CRANK   = 5
    RIGHT_CRANK  = 6
    LEFT_PEDAL   = 7
    RIGHT_PEDAL  = 8
    FRONT_HUB    = 9
    REAR_DROPOUT = 10
    CHAINSTAY    = 11
    REAR_WHEEL   = 12
    REAR_HUB     = 13
    CHEST        = 14
    SPIDER       = 15
    CHAIN_RING   = 16
    # fmt: on


class RscFeature(enum.IntFlag):
    """RSC Feature (0x2A54) bits, RSCS 1.0 §3.2."""

    # fmt: off
    STRIDE_LENGTH_MEASUREMENT = 1 << 0
    TOTAL_DISTANCE_MEASUREMENT = 1 << 1
    WALKING_OR_RUNNING_STATUS = 1 << 2
    CALIBRATION_PROCEDURE     = 1 << 3
    MULTIPLE_SENSOR_LOCATIONS = 1 << 4
    # fmt: on


class ScOpcode(utils.OpenIntEnum):
    """SC Control Point (0x2A55) op codes, RSCS 1.0 §3.4.1 (open: unknown op codes are echoed back)."""

    # fmt: off
    SET_CUMULATIVE_VALUE               = 0x01
    START_SENSOR_CALIBRATION           = 0x02
    UPDATE_SENSOR_LOCATION             = 0x03
    REQUEST_SUPPORTED_SENSOR_LOCATIONS = 0x04
    RESPONSE_CODE                      = 0x10
    # fmt: on


class ScResponseValue(utils.OpenIntEnum):
    """SC Control Point response values, RSCS 1.0 §3.4.1.1."""

    # fmt: off
    SUCCESS               = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_PARAMETER     = 0x03
    OPERATION_FAILED      = 0x04
    # fmt: on


# -----------------------------------------------------------------------------
# Codecs
# -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RscMeasurement:
    """RSC Measurement (0x2A53): what is sent, in SI units; quantised to the wire resolution by ``bytes()``.

    Wire: flags uint8, speed uint16 (1/256 m/s), cadence uint8 (1/min), [stride length uint16 (cm)],
    [total distance uint32 (dm)], little endian. Values beyond a field's range saturate to it and NaN is sent as
    0 (`soleware.gait.vocabulary.quantize`, the range policy of every stride wire format).

    Parameters
    ----------
    speed_mps
        Instantaneous speed, 0..255.996 m/s.
    cadence_spm
        Instantaneous cadence in steps per minute of both feet (0..255), as the profile transmits it.
    stride_length_m
        Instantaneous stride length (0..655.35 m), ``None`` if not sent.
    total_distance_m
        Total distance (0..429496729.5 m), ``None`` if not sent.
    is_running
        Walking (False) or running (True) status bit.
    """

    speed_mps: float
    cadence_spm: float
    stride_length_m: float | None = None
    total_distance_m: float | None = None
    is_running: bool = False

    class Flag(enum.IntFlag):
        STRIDE_LENGTH_PRESENT = 1 << 0
        TOTAL_DISTANCE_PRESENT = 1 << 1
        RUNNING = 1 << 2

    #: Largest speed the uint16 field can carry.
    MAX_SPEED_MPS = _UINT16_MAX / 256

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) < 4:
            raise core.InvalidArgumentError(f"RSC Measurement needs at least 4 bytes, got {len(data)}")
        flags, speed_raw, cadence = struct.unpack_from("<BHB", data, 0)
        offset = 4
        needed = (
            4
            + 2 * bool(flags & cls.Flag.STRIDE_LENGTH_PRESENT)
            + 4 * bool(flags & cls.Flag.TOTAL_DISTANCE_PRESENT)
        )
        if len(data) < needed:
            raise core.InvalidArgumentError(f"RSC Measurement with flags 0x{flags:02X} needs {needed} bytes")
        stride_length_m = total_distance_m = None
        if flags & cls.Flag.STRIDE_LENGTH_PRESENT:
            stride_length_m = struct.unpack_from("<H", data, offset)[0] / 100
            offset += 2
        if flags & cls.Flag.TOTAL_DISTANCE_PRESENT:
            total_distance_m = struct.unpack_from("<I", data, offset)[0] / 10
        return cls(
            speed_mps=speed_raw / 256,
            cadence_spm=cadence,
            stride_length_m=stride_length_m,
            total_distance_m=total_distance_m,
            is_running=bool(flags & cls.Flag.RUNNING),
        )

    def __bytes__(self) -> bytes:
        flags = self.Flag(0)
        tail = b""
        if self.stride_length_m is not None:
            flags |= self.Flag.STRIDE_LENGTH_PRESENT
            tail += struct.pack("<H", quantize(self.stride_length_m, 100, 0, _UINT16_MAX))
        if self.total_distance_m is not None:
            flags |= self.Flag.TOTAL_DISTANCE_PRESENT
            tail += struct.pack("<I", quantize(self.total_distance_m, 10, 0, _UINT32_MAX))
        if self.is_running:
            flags |= self.Flag.RUNNING
        speed = quantize(self.speed_mps, 256, 0, _UINT16_MAX)
        return struct.pack("<BHB", flags, speed, quantize(self.cadence_spm, 1, 0, _UINT8_MAX)) + tail


@dataclasses.dataclass(frozen=True)
class ScControlPointRequest:
    """A write to the SC Control Point: op code uint8 and its parameter.

    ``cumulative_value_m`` is the Set Cumulative Value parameter (uint32, 1/10 m); ``sensor_location`` the
    Update Sensor Location parameter (uint8). The other op codes have no parameter.
    """

    opcode: ScOpcode
    cumulative_value_m: float | None = None
    sensor_location: SensorLocation | None = None

    def __post_init__(self) -> None:
        check_integer("opcode", self.opcode, _UINT8_MAX)
        if (self.cumulative_value_m is not None) != (self.opcode == ScOpcode.SET_CUMULATIVE_VALUE):
            raise core.InvalidArgumentError(
                "cumulative_value_m goes with, and only with, SET_CUMULATIVE_VALUE"
            )
        if (self.sensor_location is not None) != (self.opcode == ScOpcode.UPDATE_SENSOR_LOCATION):
            raise core.InvalidArgumentError(
                "sensor_location goes with, and only with, UPDATE_SENSOR_LOCATION"
            )
        if self.cumulative_value_m is not None:
            encode_scaled("cumulative_value_m", self.cumulative_value_m, 10, _UINT32_MAX)
        if self.sensor_location is not None:
            check_integer("sensor_location", self.sensor_location, _UINT8_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if not data:
            raise core.InvalidArgumentError("empty SC Control Point request")
        opcode = ScOpcode(data[0])
        parameter = bytes(data[1:])
        if opcode == ScOpcode.SET_CUMULATIVE_VALUE:
            if len(parameter) != 4:
                raise core.InvalidArgumentError("Set Cumulative Value takes a uint32 parameter")
            return cls(opcode, cumulative_value_m=struct.unpack("<I", parameter)[0] / 10)
        if opcode == ScOpcode.UPDATE_SENSOR_LOCATION:
            if len(parameter) != 1:
                raise core.InvalidArgumentError("Update Sensor Location takes a uint8 parameter")
            return cls(opcode, sensor_location=SensorLocation(parameter[0]))
        if parameter:
            raise core.InvalidArgumentError(f"{opcode.name} takes no parameter")
        return cls(opcode)

    def __bytes__(self) -> bytes:
        data = bytes([self.opcode])
        if self.cumulative_value_m is not None:
            data += struct.pack("<I", round(self.cumulative_value_m * 10))
        if self.sensor_location is not None:
            data += bytes([self.sensor_location])
        return data


@dataclasses.dataclass(frozen=True)
class ScControlPointResponse:
    """The indication answering a request: 0x10, request op code, response value, [supported locations]."""

    request_opcode: ScOpcode
    response_value: ScResponseValue
    supported_locations: tuple[SensorLocation, ...] = ()

    def __post_init__(self) -> None:
        check_integer("request_opcode", self.request_opcode, _UINT8_MAX)
        check_integer("response_value", self.response_value, _UINT8_MAX)
        for location in self.supported_locations:
            check_integer("supported_locations[]", location, _UINT8_MAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) < 3 or data[0] != ScOpcode.RESPONSE_CODE:
            raise core.InvalidArgumentError(f"not an SC Control Point response: {bytes(data).hex()}")
        return cls(
            request_opcode=ScOpcode(data[1]),
            response_value=ScResponseValue(data[2]),
            supported_locations=tuple(SensorLocation(b) for b in data[3:]),
        )

    def __bytes__(self) -> bytes:
        return bytes(
            [ScOpcode.RESPONSE_CODE, self.request_opcode, self.response_value, *self.supported_locations]
        )


# -----------------------------------------------------------------------------
# Server
# -----------------------------------------------------------------------------
class RunningSpeedAndCadenceService(gatt.TemplateService):
    """RSC server: Measurement (notify), Feature (read), Sensor Location (read) and SC Control Point.

    The control point exists when the features need it (total distance, calibration or multiple sensor
    locations) and answers by indication only: a write without indications enabled gets the ATT error 0x81,
    a write while an earlier procedure's response is still pending gets 0x80.

    Parameters
    ----------
    feature
        RSC Feature bits. Which op codes are supported follows from them (RSCS 1.0 §3.4).
    sensor_location
        Current location, exposed by the Sensor Location characteristic; ``None`` leaves it out (only allowed
        without :attr:`RscFeature.MULTIPLE_SENSOR_LOCATIONS`).
    supported_locations
        Locations accepted by Update Sensor Location and listed by Request Supported Sensor Locations.
    on_set_cumulative
        ``callback(distance_m)``, sync or async, when a client sets the total distance.
    on_calibration
        ``callback()``, sync or async; the success response is indicated once it returns.
    on_sensor_location
        ``callback(location)`` after a client changed the sensor location.

    A callback that raises or returns ``False`` makes the response "Operation Failed".
    """

    UUID = gatt.GATT_RUNNING_SPEED_AND_CADENCE_SERVICE

    DEFAULT_FEATURE = (
        RscFeature.STRIDE_LENGTH_MEASUREMENT
        | RscFeature.TOTAL_DISTANCE_MEASUREMENT
        | RscFeature.WALKING_OR_RUNNING_STATUS
    )

    rsc_measurement_characteristic: gatt.Characteristic[RscMeasurement]
    rsc_feature_characteristic: gatt.Characteristic[RscFeature]
    sensor_location_characteristic: gatt.Characteristic[SensorLocation] | None
    sc_control_point_characteristic: gatt.Characteristic[bytes] | None

    def __init__(
        self,
        *,
        feature: RscFeature = DEFAULT_FEATURE,
        sensor_location: SensorLocation | None = SensorLocation.IN_SHOE,
        supported_locations: Sequence[SensorLocation] = (SensorLocation.IN_SHOE,),
        on_set_cumulative: Callable[[float], Any] | None = None,
        on_calibration: Callable[[], Any] | None = None,
        on_sensor_location: Callable[[SensorLocation], Any] | None = None,
    ) -> None:
        self.feature = RscFeature(feature)
        self.sensor_location = sensor_location
        self.supported_locations = tuple(SensorLocation(x) for x in supported_locations)
        self.on_set_cumulative = on_set_cumulative
        self.on_calibration = on_calibration
        self.on_sensor_location = on_sensor_location
        #: resolved by the confirmation of the pending procedure's response (RSCS 1.0 §3.4.1: it ends there)
        self._procedure: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

        if sensor_location is None and RscFeature.MULTIPLE_SENSOR_LOCATIONS in self.feature:
            raise core.InvalidArgumentError("MULTIPLE_SENSOR_LOCATIONS requires a sensor_location")
        if (
            RscFeature.MULTIPLE_SENSOR_LOCATIONS in self.feature
            and sensor_location not in self.supported_locations
        ):
            raise core.InvalidArgumentError(f"sensor_location {sensor_location!r} not in supported_locations")

        self.rsc_measurement_characteristic = gatt_adapters.SerializableCharacteristicAdapter(
            gatt.Characteristic(
                RSC_MEASUREMENT_CHARACTERISTIC,
                properties=gatt.Characteristic.Properties.NOTIFY,
                permissions=gatt.Characteristic.Permissions(0),
            ),
            RscMeasurement,
        )
        self.rsc_feature_characteristic = gatt_adapters.EnumCharacteristicAdapter(
            gatt.Characteristic(
                RSC_FEATURE_CHARACTERISTIC,
                properties=gatt.Characteristic.Properties.READ,
                permissions=gatt.Characteristic.READABLE,
                value=self.feature,
            ),
            cls=RscFeature,
            length=2,
        )
        characteristics: list[gatt.Characteristic[Any]] = [
            self.rsc_measurement_characteristic,
            self.rsc_feature_characteristic,
        ]

        self.sensor_location_characteristic = None
        if sensor_location is not None:
            self.sensor_location_characteristic = gatt_adapters.EnumCharacteristicAdapter(
                gatt.Characteristic(
                    SENSOR_LOCATION_CHARACTERISTIC,
                    properties=gatt.Characteristic.Properties.READ,
                    permissions=gatt.Characteristic.READABLE,
                    value=gatt.CharacteristicValue(read=lambda _connection: self.sensor_location),
                ),
                cls=SensorLocation,
                length=1,
            )
            characteristics.append(self.sensor_location_characteristic)

        self.sc_control_point_characteristic = None
        if self.supported_opcodes:
            self.sc_control_point_characteristic = gatt.Characteristic(
                SC_CONTROL_POINT_CHARACTERISTIC,
                properties=gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.INDICATE,
                permissions=gatt.Characteristic.WRITEABLE,
                # Bumble's Characteristic hint omits the AttributeValueV2 its Attribute accepts
                value=att.AttributeValueV2(write=self._on_write_sc_control_point),  # type: ignore[arg-type]
            )
            characteristics.append(self.sc_control_point_characteristic)

        super().__init__(characteristics)

    @property
    def supported_opcodes(self) -> frozenset[ScOpcode]:
        """Control point op codes this configuration must support (RSCS 1.0 §3.4)."""
        opcodes = set()
        if RscFeature.TOTAL_DISTANCE_MEASUREMENT in self.feature:
            opcodes.add(ScOpcode.SET_CUMULATIVE_VALUE)
        if RscFeature.CALIBRATION_PROCEDURE in self.feature:
            opcodes.add(ScOpcode.START_SENSOR_CALIBRATION)
        if RscFeature.MULTIPLE_SENSOR_LOCATIONS in self.feature:
            opcodes |= {ScOpcode.UPDATE_SENSOR_LOCATION, ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS}
        return frozenset(opcodes)

    # -- measurements ------------------------------------------------------------------------------------------
    def check_measurement(self, measurement: RscMeasurement) -> None:
        """Refuse fields the RSC Feature characteristic says this sensor does not have."""
        absent = [
            name
            for name, present, bit in (
                (
                    "stride_length_m",
                    measurement.stride_length_m is not None,
                    RscFeature.STRIDE_LENGTH_MEASUREMENT,
                ),
                (
                    "total_distance_m",
                    measurement.total_distance_m is not None,
                    RscFeature.TOTAL_DISTANCE_MEASUREMENT,
                ),
                ("is_running", measurement.is_running, RscFeature.WALKING_OR_RUNNING_STATUS),
            )
            if present and bit not in self.feature
        ]
        if absent:
            raise core.InvalidArgumentError(f"{', '.join(absent)} set but not in feature {self.feature!r}")

    async def notify_measurement(self, device: device.Device, measurement: RscMeasurement) -> None:
        """Send ``measurement`` to every subscribed client."""
        self.check_measurement(measurement)
        await device.notify_subscribers(self.rsc_measurement_characteristic, measurement)

    @staticmethod
    def measurement_from_foot(
        *,
        speed_mps: float,
        stride_rate_one_foot_spm: float,
        stride_length_m: float | None = None,
        total_distance_m: float | None = None,
        is_running: bool = False,
    ) -> RscMeasurement:
        """Measurement from one shoe's view: the cadence sent is ``2 * stride_rate_one_foot_spm``.

        The shoe feels every other step (its own foot), while RSC cadence counts the steps of both feet.
        """
        return RscMeasurement(
            speed_mps=speed_mps,
            cadence_spm=2 * stride_rate_one_foot_spm,
            stride_length_m=stride_length_m,
            total_distance_m=total_distance_m,
            is_running=is_running,
        )

    async def update(
        self,
        device: device.Device,
        *,
        speed_mps: float,
        stride_rate_one_foot_spm: float,
        stride_length_m: float | None = None,
        total_distance_m: float | None = None,
        is_running: bool = False,
    ) -> RscMeasurement:
        """Notify a measurement built by :meth:`measurement_from_foot` (cadence doubled) and return it."""
        measurement = self.measurement_from_foot(
            speed_mps=speed_mps,
            stride_rate_one_foot_spm=stride_rate_one_foot_spm,
            stride_length_m=stride_length_m,
            total_distance_m=total_distance_m,
            is_running=is_running,
        )
        await self.notify_measurement(device, measurement)
        return measurement

    # -- control point -----------------------------------------------------------------------------------------
    def _on_write_sc_control_point(self, bearer: att.Bearer, value: bytes) -> None:
        assert self.sc_control_point_characteristic is not None
        if not indications_enabled(bearer, self.sc_control_point_characteristic):
            raise att.ATT_Error(ApplicationError.CCCD_IMPROPERLY_CONFIGURED)
        if self._procedure is not None and not self._procedure.done():
            raise att.ATT_Error(ApplicationError.PROCEDURE_ALREADY_IN_PROGRESS)
        if not value:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        self._procedure = confirmation = asyncio.get_running_loop().create_future()
        task = spawn(self._tasks, bearer, self._run_procedure(bearer, bytes(value), confirmation))
        task.add_done_callback(lambda _task: confirmation.done() or confirmation.cancel())

    async def _run_procedure(
        self, bearer: att.Bearer, value: bytes, confirmation: asyncio.Future[None]
    ) -> None:
        response = await self._respond(value)
        assert self.sc_control_point_characteristic is not None
        await indicate(bearer, self.sc_control_point_characteristic, bytes(response), confirmation)

    async def _respond(self, value: bytes) -> ScControlPointResponse:
        opcode = ScOpcode(value[0])
        if opcode not in self.supported_opcodes:
            return ScControlPointResponse(opcode, ScResponseValue.OP_CODE_NOT_SUPPORTED)
        try:
            request = ScControlPointRequest.from_bytes(value)
        except (core.InvalidArgumentError, ValueError):
            return ScControlPointResponse(opcode, ScResponseValue.INVALID_PARAMETER)
        handler: Callable[[ScControlPointRequest], Awaitable[ScControlPointResponse]] = getattr(
            self, "_on_" + opcode.name.lower()
        )
        try:
            return await handler(request)
        except Exception:
            logger.exception("SC Control Point %s failed", opcode.name)
            return ScControlPointResponse(opcode, ScResponseValue.OPERATION_FAILED)

    @staticmethod
    def _result(opcode: ScOpcode, outcome: Any) -> ScControlPointResponse:
        value = ScResponseValue.OPERATION_FAILED if outcome is False else ScResponseValue.SUCCESS
        return ScControlPointResponse(opcode, value)

    async def _on_set_cumulative_value(self, request: ScControlPointRequest) -> ScControlPointResponse:
        outcome = None
        if self.on_set_cumulative is not None:
            outcome = await call(self.on_set_cumulative, request.cumulative_value_m)
        return self._result(request.opcode, outcome)

    async def _on_start_sensor_calibration(self, request: ScControlPointRequest) -> ScControlPointResponse:
        outcome = None
        if self.on_calibration is not None:
            outcome = await call(self.on_calibration)
        return self._result(request.opcode, outcome)

    async def _on_update_sensor_location(self, request: ScControlPointRequest) -> ScControlPointResponse:
        if request.sensor_location not in self.supported_locations:
            return ScControlPointResponse(request.opcode, ScResponseValue.INVALID_PARAMETER)
        previous, self.sensor_location = self.sensor_location, request.sensor_location
        outcome = None
        if self.on_sensor_location is not None:
            outcome = await call(self.on_sensor_location, request.sensor_location)
        if outcome is False:
            self.sensor_location = previous
        return self._result(request.opcode, outcome)

    async def _on_request_supported_sensor_locations(
        self, request: ScControlPointRequest
    ) -> ScControlPointResponse:
        return ScControlPointResponse(request.opcode, ScResponseValue.SUCCESS, self.supported_locations)


# -----------------------------------------------------------------------------
# Client
# -----------------------------------------------------------------------------
class RunningSpeedAndCadenceServiceProxy(gatt_client.ProfileServiceProxy):
    """Client of :class:`RunningSpeedAndCadenceService`; attribute names mirror the server's."""

    SERVICE_CLASS = RunningSpeedAndCadenceService

    rsc_measurement: gatt_client.CharacteristicProxy[RscMeasurement]
    rsc_feature: gatt_client.CharacteristicProxy[RscFeature]
    sensor_location: gatt_client.CharacteristicProxy[SensorLocation] | None
    sc_control_point: gatt_client.CharacteristicProxy[bytes] | None

    def __init__(self, service_proxy: gatt_client.ServiceProxy) -> None:
        self.service_proxy = service_proxy
        self.rsc_measurement = gatt_adapters.SerializableCharacteristicProxyAdapter(
            service_proxy.get_required_characteristic_by_uuid(RSC_MEASUREMENT_CHARACTERISTIC), RscMeasurement
        )
        self.rsc_feature = gatt_adapters.EnumCharacteristicProxyAdapter(
            service_proxy.get_required_characteristic_by_uuid(RSC_FEATURE_CHARACTERISTIC),
            cls=RscFeature,
            length=2,
        )
        if characteristics := service_proxy.get_characteristics_by_uuid(SENSOR_LOCATION_CHARACTERISTIC):
            self.sensor_location = gatt_adapters.EnumCharacteristicProxyAdapter(
                characteristics[0], cls=SensorLocation, length=1
            )
        else:
            self.sensor_location = None
        self._control_point: ControlPointClient | None = None
        if characteristics := service_proxy.get_characteristics_by_uuid(SC_CONTROL_POINT_CHARACTERISTIC):
            self.sc_control_point = characteristics[0]
            self._control_point = ControlPointClient(characteristics[0])
        else:
            self.sc_control_point = None

    async def subscribe_measurements(self, callback: Callable[[RscMeasurement], Any]) -> None:
        """Enable notifications; ``callback`` gets each decoded :class:`RscMeasurement`."""
        await self.rsc_measurement.subscribe(callback)

    async def read_feature(self) -> RscFeature:
        return await self.rsc_feature.read_value()

    async def read_sensor_location(self) -> SensorLocation | None:
        """Current sensor location, ``None`` when the server has no Sensor Location characteristic."""
        return None if self.sensor_location is None else await self.sensor_location.read_value()

    async def control(
        self, request: ScControlPointRequest, *, timeout_s: float = CONTROL_POINT_TIMEOUT_S
    ) -> ScControlPointResponse:
        """Run one SC Control Point procedure: enable indications if needed, write, await the response."""
        if self._control_point is None:
            raise core.InvalidStateError("server has no SC Control Point")
        raw = await self._control_point.request(bytes(request), timeout_s=timeout_s)
        return ScControlPointResponse.from_bytes(raw)

    async def set_cumulative_value(self, distance_m: float) -> ScResponseValue:
        """Set the server's total distance (sent in 1/10 m)."""
        request = ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=distance_m)
        return (await self.control(request)).response_value

    async def start_sensor_calibration(self) -> ScResponseValue:
        return (await self.control(ScControlPointRequest(ScOpcode.START_SENSOR_CALIBRATION))).response_value

    async def update_sensor_location(self, location: SensorLocation) -> ScResponseValue:
        request = ScControlPointRequest(ScOpcode.UPDATE_SENSOR_LOCATION, sensor_location=location)
        return (await self.control(request)).response_value

    async def request_supported_sensor_locations(self) -> tuple[SensorLocation, ...]:
        """Supported locations; raises ``core.InvalidStateError`` if the server answers other than Success."""
        response = await self.control(ScControlPointRequest(ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS))
        if response.response_value != ScResponseValue.SUCCESS:
            raise core.InvalidStateError(f"Request Supported Sensor Locations: {response.response_value!r}")
        return response.supported_locations
