"""RSC codecs byte for byte against RSCS 1.0 and against the independent decoder of PyPI ``bluetooth-sig``."""

import struct

import pytest
from bluetooth_sig.gatt.characteristics.rsc_feature import RSCFeatureCharacteristic
from bluetooth_sig.gatt.characteristics.rsc_measurement import (
    RSCMeasurementCharacteristic,
    RSCMeasurementData,
    RSCMeasurementFlags,
)
from bluetooth_sig.gatt.characteristics.sc_control_point import (
    SCControlPointCharacteristic,
    SCControlPointOpCode,
    SCControlPointResponseValue,
)
from bluetooth_sig.gatt.characteristics.sensor_location import (
    SensorLocationCharacteristic,
    SensorLocationValue,
)
from hypothesis import given
from hypothesis import strategies as st

from soleware.link.rsc import (
    RSC_FEATURE_CHARACTERISTIC,
    RSC_MEASUREMENT_CHARACTERISTIC,
    SC_CONTROL_POINT_CHARACTERISTIC,
    SENSOR_LOCATION_CHARACTERISTIC,
    RscFeature,
    RscMeasurement,
    RunningSpeedAndCadenceService,
    ScControlPointRequest,
    ScControlPointResponse,
    ScOpcode,
    ScResponseValue,
    SensorLocation,
)

SIG_MEASUREMENT = RSCMeasurementCharacteristic()

# Hand-computed from RSCS 1.0 §3.1: 3.5 m/s * 256 = 896 = 0x0380; 170 = 0xAA; 1.40 m = 140 cm = 0x008C;
# 1000 m = 10000 dm = 0x00002710; flags 0b111.
EXAMPLES = [
    (
        RscMeasurement(3.5, 170, stride_length_m=1.4, total_distance_m=1000.0, is_running=True),
        "07 8003 aa 8c00 10270000",
    ),
    (RscMeasurement(1.25, 110), "00 4001 6e"),  # walking, 1.25 * 256 = 320 = 0x0140
    (RscMeasurement(0.0, 0, total_distance_m=0.1), "02 0000 00 01000000"),
    (RscMeasurement(255.99609375, 255, stride_length_m=655.35, is_running=True), "05 ffff ff ffff"),
]


@pytest.mark.parametrize(("measurement", "wire"), EXAMPLES)
def test_measurement_bytes_match_the_spec(measurement: RscMeasurement, wire: str) -> None:
    assert bytes(measurement) == bytes.fromhex(wire)
    assert RscMeasurement.from_bytes(bytes.fromhex(wire)) == measurement


@pytest.mark.parametrize(("measurement", "wire"), EXAMPLES)
def test_measurement_agrees_with_bluetooth_sig(measurement: RscMeasurement, wire: str) -> None:
    theirs = SIG_MEASUREMENT.parse_value(bytearray.fromhex(wire))
    assert theirs.instantaneous_speed == pytest.approx(measurement.speed_mps)
    assert theirs.instantaneous_cadence == measurement.cadence_spm
    assert theirs.is_running == measurement.is_running
    assert theirs.instantaneous_stride_length == measurement.stride_length_m
    assert theirs.total_distance == measurement.total_distance_m


def test_uuids_are_the_assigned_numbers() -> None:
    assert RSC_MEASUREMENT_CHARACTERISTIC.to_hex_str().upper() == str(SIG_MEASUREMENT.uuid)[4:8]
    assert RSC_FEATURE_CHARACTERISTIC.to_hex_str().upper() == str(RSCFeatureCharacteristic().uuid)[4:8]
    assert (
        SENSOR_LOCATION_CHARACTERISTIC.to_hex_str().upper() == str(SensorLocationCharacteristic().uuid)[4:8]
    )
    assert (
        SC_CONTROL_POINT_CHARACTERISTIC.to_hex_str().upper() == str(SCControlPointCharacteristic().uuid)[4:8]
    )
    assert RunningSpeedAndCadenceService.UUID.to_hex_str() == "1814"


def test_sensor_locations_match_the_assigned_numbers() -> None:
    assert SensorLocation.IN_SHOE == 2
    assert {x.name: x.value for x in SensorLocation} == {x.name: x.value for x in SensorLocationValue}
    assert (
        SensorLocationCharacteristic().parse_value(bytearray([SensorLocation.IN_SHOE]))
        == SensorLocationValue.IN_SHOE
    )


def test_feature_bits_agree_with_bluetooth_sig() -> None:
    theirs = RSCFeatureCharacteristic().parse_value(bytearray(int(RscFeature(0x1F)).to_bytes(2, "little")))
    assert int(theirs.features) == 0x1F
    default = RunningSpeedAndCadenceService.DEFAULT_FEATURE
    assert int(default).to_bytes(2, "little") == bytes.fromhex("0700")
    theirs = RSCFeatureCharacteristic().parse_value(bytearray(int(default).to_bytes(2, "little")))
    assert theirs.instantaneous_stride_length_supported
    assert theirs.total_distance_supported
    assert theirs.walking_or_running_status_supported
    assert not theirs.calibration_procedure_supported
    assert not theirs.multiple_sensor_locations_supported


def test_control_point_opcodes_and_response_values_agree_with_bluetooth_sig() -> None:
    assert {x.name: x.value for x in ScOpcode} == {x.name: x.value for x in SCControlPointOpCode}
    assert {x.name: x.value for x in ScResponseValue} == {
        x.name.replace("INVALID_OPERAND", "INVALID_PARAMETER"): x.value for x in SCControlPointResponseValue
    }


@pytest.mark.parametrize(
    ("request_", "wire"),
    [
        (
            ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=123.4),
            "01 d2040000",
        ),  # 1234 dm
        (ScControlPointRequest(ScOpcode.START_SENSOR_CALIBRATION), "02"),
        (
            ScControlPointRequest(ScOpcode.UPDATE_SENSOR_LOCATION, sensor_location=SensorLocation.IN_SHOE),
            "03 02",
        ),
        (ScControlPointRequest(ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS), "04"),
    ],
)
def test_control_point_requests(request_: ScControlPointRequest, wire: str) -> None:
    assert bytes(request_) == bytes.fromhex(wire)
    assert ScControlPointRequest.from_bytes(bytes.fromhex(wire)) == request_
    theirs = SCControlPointCharacteristic().parse_value(bytearray.fromhex(wire))
    assert theirs.opcode == request_.opcode
    assert theirs.parameter == bytes.fromhex(wire)[1:]


@pytest.mark.parametrize(
    ("response", "wire"),
    [
        (ScControlPointResponse(ScOpcode.SET_CUMULATIVE_VALUE, ScResponseValue.SUCCESS), "10 01 01"),
        (ScControlPointResponse(ScOpcode(0x07), ScResponseValue.OP_CODE_NOT_SUPPORTED), "10 07 02"),
        (
            ScControlPointResponse(
                ScOpcode.REQUEST_SUPPORTED_SENSOR_LOCATIONS,
                ScResponseValue.SUCCESS,
                (SensorLocation.IN_SHOE, SensorLocation.TOP_OF_SHOE),
            ),
            "10 04 01 02 01",
        ),
    ],
)
def test_control_point_responses(response: ScControlPointResponse, wire: str) -> None:
    assert bytes(response) == bytes.fromhex(wire)
    assert ScControlPointResponse.from_bytes(bytes.fromhex(wire)) == response
    theirs = SCControlPointCharacteristic().parse_value(bytearray.fromhex(wire))
    assert theirs.opcode == SCControlPointOpCode.RESPONSE_CODE
    assert theirs.parameter[:2] == bytes([response.request_opcode, response.response_value])


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        ({"speed_mps": 256.0, "cadence_spm": 170}, "00 ffff aa"),
        ({"speed_mps": -1.0, "cadence_spm": 170}, "00 0000 aa"),
        ({"speed_mps": float("nan"), "cadence_spm": 170}, "00 0000 aa"),
        ({"speed_mps": 3.0, "cadence_spm": 256}, "00 0003 ff"),
        ({"speed_mps": 3.0, "cadence_spm": 170.4}, "00 0003 aa"),
        ({"speed_mps": 3.0, "cadence_spm": 170, "stride_length_m": 656.0}, "01 0003 aa ffff"),
        ({"speed_mps": 3.0, "cadence_spm": 170, "total_distance_m": 429_496_730.0}, "02 0003 aa ffffffff"),
    ],
)
def test_measurement_values_saturate_to_their_field(kwargs: dict, wire: str) -> None:
    """One range policy for every stride wire format: saturate (and NaN as 0), never fail on a sensor glitch."""
    assert bytes(RscMeasurement(**kwargs)) == bytes.fromhex(wire)


@pytest.mark.parametrize(
    "wire", ["", "00 4001", "01 4001 6e 8c", "02 4001 6e 102700", "03 4001 6e 8c00 1027"]
)
def test_truncated_measurement_is_refused(wire: str) -> None:
    with pytest.raises(ValueError):
        RscMeasurement.from_bytes(bytes.fromhex(wire))


def test_control_point_request_parameter_errors() -> None:
    with pytest.raises(ValueError):
        ScControlPointRequest.from_bytes(bytes.fromhex("01 d204"))
    with pytest.raises(ValueError):
        ScControlPointRequest.from_bytes(bytes.fromhex("02 00"))
    with pytest.raises(ValueError, match="cumulative_value_m"):
        ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE)
    with pytest.raises(ValueError, match="cumulative_value_m"):
        ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=-0.5)


def test_cadence_doubling_lives_in_measurement_from_foot() -> None:
    measurement = RunningSpeedAndCadenceService.measurement_from_foot(
        speed_mps=3.0, stride_rate_one_foot_spm=86.4
    )
    assert measurement.cadence_spm == pytest.approx(172.8)
    assert bytes(measurement)[3] == 173
    too_fast = RunningSpeedAndCadenceService.measurement_from_foot(
        speed_mps=3.0, stride_rate_one_foot_spm=128
    )
    assert bytes(too_fast)[3] == 255


measurement_wires = st.builds(
    lambda flags, speed, cadence, stride, distance: (
        struct.pack("<BHB", flags, speed, cadence)
        + (struct.pack("<H", stride) if flags & 1 else b"")
        + (struct.pack("<I", distance) if flags & 2 else b"")
    ),
    st.integers(0, 7),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF_FFFF),
)


@given(measurement_wires)
def test_any_valid_measurement_round_trips_and_agrees_with_bluetooth_sig(wire: bytes) -> None:
    ours = RscMeasurement.from_bytes(wire)
    assert bytes(ours) == wire
    theirs = SIG_MEASUREMENT.parse_value(bytearray(wire))
    assert (theirs.instantaneous_speed, theirs.instantaneous_cadence, theirs.is_running) == (
        ours.speed_mps,
        ours.cadence_spm,
        ours.is_running,
    )
    assert theirs.instantaneous_stride_length == ours.stride_length_m
    assert theirs.total_distance == ours.total_distance_m


@given(
    st.floats(0, RscMeasurement.MAX_SPEED_MPS),
    st.integers(0, 255),
    st.none() | st.floats(0, 655.35),
    st.none() | st.floats(0, 429_496_729.5),
    st.booleans(),
)
def test_measurement_values_survive_within_half_a_wire_unit(
    speed_mps: float,
    cadence_spm: int,
    stride_length_m: float | None,
    total_distance_m: float | None,
    running: bool,
) -> None:
    sent = RscMeasurement(speed_mps, cadence_spm, stride_length_m, total_distance_m, running)
    got = RscMeasurement.from_bytes(bytes(sent))
    assert got.speed_mps == pytest.approx(speed_mps, abs=0.5 / 256 + 1e-12)
    assert got.cadence_spm == cadence_spm
    assert got.is_running == running
    if stride_length_m is None:
        assert got.stride_length_m is None
    else:
        assert got.stride_length_m == pytest.approx(stride_length_m, abs=0.005 + 1e-9)
    if total_distance_m is None:
        assert got.total_distance_m is None
    else:
        assert got.total_distance_m == pytest.approx(total_distance_m, abs=0.05 + 1e-6)


@given(st.floats(0, 429_496_729.5))
def test_cumulative_value_round_trips_through_bluetooth_sig_encoder(distance_m: float) -> None:
    theirs = RSCMeasurementCharacteristic().build_value(
        RSCMeasurementData(
            instantaneous_speed=0.0,
            instantaneous_cadence=0,
            flags=RSCMeasurementFlags(0),
            total_distance=distance_m,
        )
    )
    assert RscMeasurement.from_bytes(bytes(theirs)) == RscMeasurement(
        0.0, 0, total_distance_m=round(distance_m * 10) / 10
    )
    request = ScControlPointRequest(ScOpcode.SET_CUMULATIVE_VALUE, cumulative_value_m=distance_m)
    assert bytes(request)[1:] == bytes(theirs)[4:8]
