"""RSC Measurement bytes as third-party pods send them, odd ones included, read byte for byte; the pod recorder."""

from __future__ import annotations

import datetime as dt
import logging
import struct

import pytest
from bumble import core

from soleware.link.pod import TOTAL_DISTANCE_WRAP_M, PodRecorder, SensorLabel, matches_pod
from soleware.link.rsc import RscMeasurement

START = dt.datetime(2026, 11, 1, 7, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # mandatory fields only: flags, speed 1/256 m/s, cadence 1/min
        (bytes.fromhex("00 0003 ac"), RscMeasurement(speed_mps=3.0, cadence_spm=172)),
        (bytes.fromhex("00 ffff ff"), RscMeasurement(speed_mps=65535 / 256, cadence_spm=255)),
        # stride length (cm) and total distance (dm), running
        (
            bytes.fromhex("07 8002 b4 7d00 ffffffff"),
            RscMeasurement(
                speed_mps=2.5,
                cadence_spm=180,
                stride_length_m=1.25,
                total_distance_m=429496729.5,
                is_running=True,
            ),
        ),
        # only the total (the stride length bit clear): the total follows the cadence directly
        (
            bytes.fromhex("02 0001 50 0a000000"),
            RscMeasurement(speed_mps=1.0, cadence_spm=80, total_distance_m=1.0),
        ),
        # reserved flag bits set: the known fields are read as usual
        (
            bytes.fromhex("f9 0003 ac 6e00"),
            RscMeasurement(speed_mps=3.0, cadence_spm=172, stride_length_m=1.1),
        ),
        # bytes after the announced fields (a vendor's extra) are ignored
        (bytes.fromhex("00 0003 ac deadbeef"), RscMeasurement(speed_mps=3.0, cadence_spm=172)),
    ],
)
def test_pod_bytes_decode_to_what_they_say(data, expected):
    assert RscMeasurement.from_bytes(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "at least 4 bytes, got 0"),
        (bytes.fromhex("00 0003"), "at least 4 bytes, got 3"),
        (bytes.fromhex("01 0003 ac 6e"), "flags 0x01 needs 6 bytes"),
        (bytes.fromhex("03 0003 ac 6e00 1027"), "flags 0x03 needs 10 bytes"),
        (bytes.fromhex("02 0003 ac 102700"), "flags 0x02 needs 8 bytes"),
    ],
)
def test_short_pod_bytes_are_refused_saying_why(data, message):
    with pytest.raises(core.InvalidArgumentError, match=message):
        RscMeasurement.from_bytes(data)


def test_what_we_send_is_what_a_pod_sends():
    packed = struct.pack("<BHBHI", 0x07, 3 * 256, 172, 110, 12345)
    m = RscMeasurement(
        speed_mps=3.0, cadence_spm=172, stride_length_m=1.1, total_distance_m=1234.5, is_running=True
    )
    assert bytes(m) == packed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def measurement(speed_mps: float, *, total_dm: int | None = None, flags: int = 0) -> bytes:
    tail = b""
    if total_dm is not None:
        flags |= 0x02
        tail = struct.pack("<I", total_dm % 2**32)
    return struct.pack("<BHB", flags, round(speed_mps * 256), 170) + tail


def test_the_recorder_skips_what_it_cannot_read_and_says_so(caplog):
    clock = Clock()
    rec = PodRecorder(name="RunPod", clock=clock, wall=lambda: START)
    with caplog.at_level(logging.WARNING, logger="soleware.link.pod"):
        assert rec.add(measurement(3.0)) is not None
        clock.now += 1
        assert rec.add(b"\x01\x00\x03") is None  # short
        assert rec.add(b"\x01\x00\x03\xaa\x01") is None  # stride length announced, one byte of it
        clock.now += 1
        assert rec.add(measurement(3.0, flags=0x80)) is not None
        assert rec.add(measurement(3.0)) is None  # same instant as the one before
        clock.now += 1
        assert rec.add(measurement(3.0, flags=0x80)) is not None
    messages = [r.getMessage() for r in caplog.records]
    assert sum("skipped" in m for m in messages) == 3 and "RunPod: notification 010003 skipped" in messages[0]
    assert sum("reserved RSC flag bits 0x80" in m for m in messages) == 1, "said once"
    assert len(rec) == 3 and rec.skipped == 3 and rec.t_s == [0.0, 2.0, 3.0]
    assert rec.distance_m == pytest.approx(9.0)


def test_live_distance_follows_the_total_through_a_wrap_and_speed_through_a_reset(caplog):
    clock = Clock()
    rec = PodRecorder(clock=clock, wall=lambda: START)
    top = 2**32 - 25  # dm: 2.5 m below the wrap
    for i, total in enumerate(
        [top, top + 30, top + 60, 500, 530]
    ):  # wraps after the first; resets at the 4th
        clock.now = 100.0 + i
        rec.add(measurement(2.0, total_dm=total))
    # 3 + 3 by the total across the wrap, 2 by speed over the reset, 3 by the total again
    assert rec.distance_m == pytest.approx(11.0)
    assert "total distance went from" in caplog.text
    body = rec.upload(SensorLabel(name="RunPod"), time_zone="Europe/Paris")
    assert body is not None
    sent = body.to_json()
    assert sent["start_time"] == START.isoformat() and sent["sensor"]["manufacturer"] is None
    assert sent["samples"]["total_distance_m"][1] == pytest.approx((top + 30) % 2**32 / 10)
    assert sent["samples"]["total_distance_m"][0] < TOTAL_DISTANCE_WRAP_M, "as received"
    assert sent["samples"]["stride_length_m"] is None and sent["samples"]["t_s"] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_one_notification_is_no_run():
    rec = PodRecorder(clock=Clock(), wall=lambda: START)
    rec.add(measurement(3.0))
    assert rec.upload(SensorLabel(name="x"), time_zone="UTC") is None


@pytest.mark.parametrize(
    ("choice", "hit"),
    [
        ("any", True),
        ("ANY", True),
        ("Stryd", True),
        ("stryd ", True),
        ("C0:FF:EE:00:00:01", True),
        ("Polar", False),
    ],
)
def test_a_pod_is_chosen_by_name_or_address(choice, hit):
    assert matches_pod(choice, name="Stryd", address="c0:ff:ee:00:00:01") is hit
