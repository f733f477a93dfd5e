"""RSC, Battery and Device Information between two in-process Bumble devices (virtual shoe and phone)."""

import asyncio

import pytest
from bumble import att
from bumble.profiles.battery_service import BatteryService, BatteryServiceProxy
from bumble.profiles.device_information_service import DeviceInformationService, DeviceInformationServiceProxy

from soleware.link._testing import linked_pair
from soleware.link.rsc import (
    SC_CONTROL_POINT_CHARACTERISTIC,
    ApplicationError,
    RscFeature,
    RscMeasurement,
    RunningSpeedAndCadenceService,
    RunningSpeedAndCadenceServiceProxy,
    ScControlPointRequest,
    ScControlPointResponse,
    ScOpcode,
    ScResponseValue,
    SensorLocation,
)

ALL_FEATURES = RscFeature(0x1F)


async def test_measurements_arrive_decoded_with_the_doubled_cadence() -> None:
    service = RunningSpeedAndCadenceService()
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        assert proxy is not None
        received: asyncio.Queue[RscMeasurement] = asyncio.Queue()
        await proxy.subscribe_measurements(received.put_nowait)

        sent = await service.update(
            link.shoe,
            speed_mps=3.5,
            stride_rate_one_foot_spm=85,
            stride_length_m=1.4,
            total_distance_m=1234.5,
            is_running=True,
        )
        got = await asyncio.wait_for(received.get(), 1)
        assert got == sent
        assert got.cadence_spm == 170
        assert got.total_distance_m == 1234.5

        await service.notify_measurement(link.shoe, RscMeasurement(1.25, 110))
        assert await asyncio.wait_for(received.get(), 1) == RscMeasurement(1.25, 110)


async def test_feature_location_and_optional_characteristics() -> None:
    service = RunningSpeedAndCadenceService(
        feature=RscFeature.WALKING_OR_RUNNING_STATUS, sensor_location=None
    )
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        assert await proxy.read_feature() == RscFeature.WALKING_OR_RUNNING_STATUS
        assert await proxy.read_sensor_location() is None
        assert proxy.sc_control_point is None  # no procedure to support
        with pytest.raises(ValueError, match="total_distance_m"):
            await service.notify_measurement(link.shoe, RscMeasurement(3.0, 170, total_distance_m=5.0))


async def test_set_cumulative_value_calls_back_and_answers_success() -> None:
    distances: list[float] = []
    service = RunningSpeedAndCadenceService(on_set_cumulative=distances.append)
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        assert await proxy.read_feature() == RunningSpeedAndCadenceService.DEFAULT_FEATURE
        assert await proxy.read_sensor_location() == SensorLocation.IN_SHOE
        assert await proxy.set_cumulative_value(4321.6) == ScResponseValue.SUCCESS
        assert distances == [4321.6]
        # Unsupported without the calibration feature bit.
        assert await proxy.start_sensor_calibration() == ScResponseValue.OP_CODE_NOT_SUPPORTED


async def test_control_point_write_without_indications_is_att_error_0x81() -> None:
    distances: list[float] = []
    service = RunningSpeedAndCadenceService(on_set_cumulative=distances.append)
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        request = ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=1.0)
        with pytest.raises(att.ATT_Error) as error:
            await proxy.sc_control_point.write_value(bytes(request), with_response=True)
        assert error.value.error_code == ApplicationError.CCCD_IMPROPERLY_CONFIGURED == 0x81
        assert distances == []


async def test_second_procedure_while_one_is_pending_is_att_error_0x80() -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def calibrate() -> None:
        started.set()
        await release.wait()

    service = RunningSpeedAndCadenceService(feature=ALL_FEATURES, on_calibration=calibrate)
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        calibration = asyncio.create_task(proxy.start_sensor_calibration())
        await asyncio.wait_for(started.wait(), 1)
        with pytest.raises(att.ATT_Error) as error:
            await proxy.set_cumulative_value(0.0)
        assert error.value.error_code == ApplicationError.PROCEDURE_ALREADY_IN_PROGRESS == 0x80
        assert not calibration.done()
        release.set()
        assert await asyncio.wait_for(calibration, 1) == ScResponseValue.SUCCESS
        assert await proxy.set_cumulative_value(0.0) == ScResponseValue.SUCCESS


async def test_sensor_location_procedures() -> None:
    moved: list[SensorLocation] = []
    service = RunningSpeedAndCadenceService(
        feature=ALL_FEATURES,
        supported_locations=(SensorLocation.IN_SHOE, SensorLocation.TOP_OF_SHOE),
        on_sensor_location=moved.append,
    )
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        assert await proxy.request_supported_sensor_locations() == (
            SensorLocation.IN_SHOE,
            SensorLocation.TOP_OF_SHOE,
        )
        assert await proxy.update_sensor_location(SensorLocation.HIP) == ScResponseValue.INVALID_PARAMETER
        assert await proxy.read_sensor_location() == SensorLocation.IN_SHOE
        assert await proxy.update_sensor_location(SensorLocation.TOP_OF_SHOE) == ScResponseValue.SUCCESS
        assert await proxy.read_sensor_location() == SensorLocation.TOP_OF_SHOE
        assert moved == [SensorLocation.TOP_OF_SHOE]


async def test_failing_callback_and_malformed_or_unknown_requests() -> None:
    def refuse(_distance_m: float) -> bool:
        return False

    def calibrate() -> None:
        raise RuntimeError("IMU busy")

    service = RunningSpeedAndCadenceService(
        feature=ALL_FEATURES, on_set_cumulative=refuse, on_calibration=calibrate
    )
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        assert await proxy.set_cumulative_value(1.0) == ScResponseValue.OPERATION_FAILED
        assert await proxy.start_sensor_calibration() == ScResponseValue.OPERATION_FAILED
        control_point = proxy._control_point
        raw = await control_point.request(bytes.fromhex("01 0102"))  # uint32 parameter cut short
        assert raw == bytes([0x10, 0x01, ScResponseValue.INVALID_PARAMETER])
        raw = await control_point.request(bytes.fromhex("07"))  # reserved op code
        assert raw == bytes([0x10, 0x07, ScResponseValue.OP_CODE_NOT_SUPPORTED])


async def test_battery_and_device_information_read_without_pairing() -> None:
    level = 87
    battery = BatteryService(lambda _connection: level)
    info = DeviceInformationService(
        manufacturer_name="Soleware",
        model_number="SW-1",
        serial_number="0001",
        firmware_revision="0.1.0",
    )
    async with linked_pair([battery, info]) as link:
        battery_proxy = link.peer.create_service_proxy(BatteryServiceProxy)
        info_proxy = link.peer.create_service_proxy(DeviceInformationServiceProxy)
        assert await battery_proxy.battery_level.read_value() == 87
        assert await info_proxy.manufacturer_name.read_value() == "Soleware"
        assert await info_proxy.model_number.read_value() == "SW-1"
        assert await info_proxy.serial_number.read_value() == "0001"
        assert await info_proxy.firmware_revision.read_value() == "0.1.0"
        assert info_proxy.hardware_revision is None

        levels: asyncio.Queue[int] = asyncio.Queue()
        await battery_proxy.battery_level.subscribe(levels.put_nowait)
        level = 86
        await link.shoe.notify_subscribers(battery.battery_level_characteristic)
        assert await asyncio.wait_for(levels.get(), 1) == 86
        assert not link.phone_connection.is_encrypted


def test_service_configuration_errors() -> None:
    with pytest.raises(ValueError, match="sensor_location"):
        RunningSpeedAndCadenceService(feature=ALL_FEATURES, sensor_location=None)
    with pytest.raises(ValueError, match="supported_locations"):
        RunningSpeedAndCadenceService(feature=ALL_FEATURES, sensor_location=SensorLocation.HIP)
    service = RunningSpeedAndCadenceService(feature=ALL_FEATURES)
    assert service.supported_opcodes == {
        ScOpcode.SET_CUMULATIVE_VALUE,
        ScOpcode.START_SENSOR_CALIBRATION,
        ScOpcode.UPDATE_SENSOR_LOCATION,
        ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS,
    }


async def test_a_client_writing_the_next_op_code_on_each_indication_is_never_refused() -> None:
    """Issue 18.1: a procedure ends when its indication is confirmed. A central that confirms a response and
    writes the next op code in the same breath (raw ATT through Bumble's GATT client, not our proxy) gets no
    0x80."""
    service = RunningSpeedAndCadenceService(feature=ALL_FEATURES, on_set_cumulative=lambda _m: None)
    requests = [
        ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=12.3),
        ScControlPointRequest(ScOpcode(0x7F)),
        ScControlPointRequest(ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS),
        ScControlPointRequest(ScOpcode.START_SENSOR_CALIBRATION),
        ScControlPointRequest(ScOpcode.UPDATE_SENSOR_LOCATION, sensor_location=SensorLocation.IN_SHOE),
        ScControlPointRequest(ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS),
    ]
    async with linked_pair([service]) as link:
        (control_point,) = [
            c
            for s in link.peer.services
            for c in s.characteristics
            if c.uuid == SC_CONTROL_POINT_CHARACTERISTIC
        ]
        indications: list[bytes] = []
        answers: list[att.ATT_PDU] = []
        done = asyncio.Event()
        await control_point.subscribe(indications.append, prefer_notify=False)

        client = link.peer.gatt_client
        receive = client.on_gatt_pdu

        def on_gatt_pdu(pdu: att.ATT_PDU) -> None:
            if pdu.op_code in (att.Opcode.ATT_WRITE_RESPONSE, att.Opcode.ATT_ERROR_RESPONSE):
                answers.append(pdu)
                if pdu.op_code == att.Opcode.ATT_ERROR_RESPONSE:
                    done.set()
            else:
                receive(pdu)

        def write(request: ScControlPointRequest) -> None:
            pdu = att.ATT_Write_Request(attribute_handle=control_point.handle, attribute_value=bytes(request))
            client.send_gatt_pdu(bytes(pdu))

        def confirm_and_write_next(confirmation: att.ATT_Handle_Value_Confirmation) -> None:
            client.send_gatt_pdu(bytes(confirmation))
            if len(indications) < len(requests):
                write(requests[len(indications)])
            else:
                done.set()

        client.on_gatt_pdu = on_gatt_pdu
        client.send_confirmation = confirm_and_write_next
        write(requests[0])
        await asyncio.wait_for(done.wait(), 5)
        assert [a.op_code for a in answers] == [att.Opcode.ATT_WRITE_RESPONSE] * len(requests), answers
        responses = [ScControlPointResponse.from_bytes(i) for i in indications]
        assert [r.request_opcode for r in responses] == [r.opcode for r in requests]
        assert responses[1].response_value == ScResponseValue.OP_CODE_NOT_SUPPORTED
        assert responses[2] == ScControlPointResponse(
            ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS, ScResponseValue.SUCCESS, (SensorLocation.IN_SHOE,)
        )
