"""FIT export checked by two independent decoders (Garmin's SDK and fitdecode); FIT import of watch files."""

from __future__ import annotations

import dataclasses
import io
from collections import Counter

import fitdecode
import numpy as np
import pytest
from fit_tool.profile.profile_type import FileType, Sport, SubSport
from garmin_fit_sdk import Decoder, Stream

from soleware.formats import FormatError, export_run, import_file
from soleware.runs.model import Source


def sdk_messages(data: bytes) -> dict:
    assert Decoder(Stream.from_byte_array(bytearray(data))).is_fit()
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


def test_fit_export_passes_garmin_sdk_integrity_and_has_every_message(realistic_run):
    msgs = sdk_messages(export_run(realistic_run, "fit"))
    assert msgs["file_id_mesgs"][0]["type"] == "activity"
    shoes = [d for d in msgs["device_info_mesgs"] if d.get("product_name") == "Soleware shoe"]
    assert sorted(d["descriptor"] for d in shoes) == sorted(realistic_run.shoe_serials)
    assert len({d["device_index"] for d in msgs["device_info_mesgs"]}) == 1 + len(realistic_run.shoe_serials)

    (session,) = msgs["session_mesgs"]
    assert session["sport"] == "running"
    assert session["total_distance"] == pytest.approx(realistic_run.distance_m, abs=0.01)
    assert session["total_elapsed_time"] == pytest.approx(realistic_run.elapsed_time_s, abs=0.001)
    assert session["total_timer_time"] == pytest.approx(realistic_run.moving_time_s, abs=0.001)
    assert session["num_laps"] == len(msgs["lap_mesgs"]) == len(realistic_run.laps)
    assert msgs["activity_mesgs"][0]["num_sessions"] == 1

    kinds = Counter((e["event"], e["event_type"]) for e in msgs["event_mesgs"])
    assert kinds[("timer", "start")] == 1 + len(realistic_run.pauses)
    assert kinds[("timer", "stop_all")] == 1 + len(realistic_run.pauses)
    assert msgs["event_mesgs"][0]["event_type"] == "start"
    assert msgs["event_mesgs"][-1]["event_type"] == "stop_all"


def test_fit_record_units_cadence_is_strides_step_length_is_half_a_stride(realistic_run):
    msgs = sdk_messages(export_run(realistic_run, "fit"))
    records = msgs["record_mesgs"]
    s = realistic_run.streams
    start = msgs["session_mesgs"][0]["start_time"]
    checked = 0
    for r in records[10:400:37]:
        i = int(np.argmin(np.abs(s.t_s - (r["timestamp"] - start).total_seconds())))
        assert r["distance"] == pytest.approx(s.distance_m[i], abs=0.006)
        assert r["enhanced_speed"] == pytest.approx(s.speed_mps[i], abs=0.0006)
        strides_per_min = r["cadence"] + r.get("fractional_cadence", 0.0)
        assert 2 * strides_per_min == pytest.approx(s.cadence_spm[i], abs=1 / 64 + 1e-6)
        assert r["step_length"] == pytest.approx(s.stride_length_m[i] * 500, abs=0.06)  # mm
        assert r["stance_time"] == pytest.approx(s.contact_time_s[i] * 1000, abs=0.06)  # ms
        checked += 1
    assert checked >= 5
    assert 70 < np.median([r["cadence"] for r in records if "cadence" in r]) < 100  # strides, not steps


def test_fit_records_leave_out_the_pause_and_timestamps_increase(realistic_run):
    msgs = sdk_messages(export_run(realistic_run, "fit"))
    start = msgs["session_mesgs"][0]["start_time"]
    t = np.array([(r["timestamp"] - start).total_seconds() for r in msgs["record_mesgs"]])
    assert np.all(np.diff(t) > 0)
    (a, b) = realistic_run.pauses[-1]
    assert not np.any((t > a + 1) & (t < b - 1))


def test_fit_export_decodes_with_fitdecode_with_crc_checks(realistic_run):
    data = export_run(realistic_run, "fit")
    names: Counter[str] = Counter()
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.ENABLED) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                names[frame.name] += 1
                if frame.name == "record" and names["record"] == 50:
                    assert frame.get_value("distance") > 0
                    assert frame.get_field("step_length").units == "mm"
    for name in ("file_id", "device_info", "event", "record", "lap", "session", "activity"):
        assert names[name] >= 1, name
    assert names["lap"] == len(realistic_run.laps)


def test_run_without_laps_gets_one_lap_and_reads_back_without_laps(realistic_run):
    realistic_run.laps = []
    data = export_run(realistic_run, "fit")
    (lap,) = sdk_messages(data)["lap_mesgs"]
    assert lap["total_elapsed_time"] == pytest.approx(realistic_run.elapsed_time_s, abs=0.001)
    assert import_file(data, name="run.fit").laps == []


def test_watch_fit_without_distance_takes_gps_distance_and_timer_pause(make_watch_fit):
    data = make_watch_fit(n=200, pause=(100, 140))
    run = import_file(data, name="watch.fit")
    assert run.source == Source.FIT.value
    moving_points = 200 - 40
    # ~3.34 m between consecutive points, and nothing for the jump across the pause
    assert run.distance_m == pytest.approx(3.336 * (moving_points - 2), rel=0.01)
    ((a, b),) = run.pauses
    assert (a, b) == pytest.approx((99.0, 140.0))
    assert np.nanmedian(run.streams.cadence_spm) == pytest.approx(172.0)
    assert run.time_zone == "UTC"


def test_watch_fit_with_distance_uses_the_recorded_distance(make_watch_fit):
    run = import_file(make_watch_fit(n=60, with_distance=True), name="watch.fit")
    assert run.streams.distance_m[-1] == pytest.approx(3.0 * 59)
    assert run.distance_m == pytest.approx(3.0 * 59)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"sport": Sport.CYCLING}, "cycling"),
        ({"file_type": FileType.COURSE}, "not an activity"),
        ({"sport": Sport.FITNESS_EQUIPMENT, "sub_sport": SubSport.INDOOR_ROWING}, "'indoor_rowing'"),
        ({"sport": Sport.TRAINING, "sub_sport": SubSport.STRENGTH_TRAINING}, "'strength_training'"),
    ],
)
def test_fit_that_is_not_a_run_is_rejected(make_watch_fit, kwargs, problem):
    with pytest.raises(FormatError, match=problem) as info:
        import_file(make_watch_fit(**kwargs), name="ride.fit")
    assert info.value.name == "ride.fit"


@pytest.mark.parametrize(
    ("sport", "sub_sport"),
    [
        (Sport.FITNESS_EQUIPMENT, SubSport.TREADMILL),
        (Sport.FITNESS_EQUIPMENT, None),
        (Sport.RUNNING, SubSport.TRAIL),
    ],
)
def test_a_treadmill_on_fitness_equipment_is_a_run(make_watch_fit, sport, sub_sport):
    """Gym equipment is a run only on a treadmill (a Garmin "Indoor Rowing" session is sport fitness_equipment too)."""
    run = import_file(make_watch_fit(sport=sport, sub_sport=sub_sport), name="gym.fit")
    assert len(run.streams) == 120


@pytest.mark.parametrize("cumulative", [True, False])
def test_the_run_leg_of_a_triathlon_is_the_run(make_multisport_fit, cumulative):
    """A triathlon's file (swim, transition, bike, transition, run) was refused as "not a run"; its run leg is
    the run, with its own distance, time and start."""
    legs = [
        (Sport.SWIMMING, 900, 1.2),
        (Sport.TRANSITION, 120, 1.0),
        (Sport.CYCLING, 2400, 9.0),
        (Sport.TRANSITION, 60, 1.0),
        (Sport.RUNNING, 1500, 3.2),
    ]
    run = import_file(make_multisport_fit(legs, cumulative=cumulative), name="triathlon.fit")
    assert run.distance_m == pytest.approx(1499 * 3.2)
    assert run.moving_time_s == pytest.approx(1499) and run.elapsed_time_s == pytest.approx(1499)
    assert run.start_time.timestamp() == pytest.approx(1_780_000_000 + 900 + 120 + 2400 + 60)
    assert run.streams.distance_m[-1] - run.streams.distance_m[0] == pytest.approx(1499 * 3.2)
    assert run.pauses == []


def test_a_duathlon_is_its_two_runs_with_the_ride_between_as_a_pause(make_multisport_fit):
    legs = [(Sport.RUNNING, 600, 3.5), (Sport.TRANSITION, 60, 1.0), (Sport.CYCLING, 1800, 9.0),
            (Sport.TRANSITION, 60, 1.0), (Sport.RUNNING, 600, 3.0)]  # fmt: skip
    for cumulative in (True, False):
        run = import_file(make_multisport_fit(legs, cumulative=cumulative), name="duathlon.fit")
        assert run.distance_m == pytest.approx(599 * 3.5 + 599 * 3.0)
        assert run.moving_time_s == pytest.approx(2 * 599)
        np.testing.assert_allclose(run.pauses, [(599.0, 2520.0)])
        d = run.streams.distance_m
        assert np.all(np.diff(d) >= 0) and d[-1] - d[0] == pytest.approx(599 * 3.5 + 599 * 3.0)


def test_a_multisport_activity_without_a_leg_on_foot_is_refused(make_multisport_fit):
    legs = [(Sport.SWIMMING, 600, 1.2), (Sport.TRANSITION, 60, 1.0), (Sport.CYCLING, 600, 9.0)]
    with pytest.raises(
        FormatError, match=r"multisport activity \(swimming, transition, cycling\) has no leg on"
    ):
        import_file(make_multisport_fit(legs), name="aquabike.fit")


# ------------------------------------------------------------------ files from older Garmin watches
def test_header_crc_left_zero_is_allowed_and_the_file_crc_still_guards_the_data(make_fr110_fit):
    """Forerunner 110: the header CRC is 0x0000, which the FIT protocol allows; the file CRC is valid."""
    data = make_fr110_fit(compressed=False)
    assert data[0] == 14 and data[12:14] == b"\x00\x00"
    # Garmin's SDK integrity check compares the header CRC even when it is 0x0000: that was the refusal
    assert not Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    run = import_file(data, name="fr110.fit")
    assert run.distance_m == pytest.approx(3.0 * 599, abs=0.01)
    assert run.elapsed_time_s == pytest.approx(599.0)
    assert run.time_zone == "Etc/GMT-2"
    broken = bytearray(data)
    broken[200] ^= 0x21
    with pytest.raises(FormatError, match=r"^fr110\.fit: FIT file is corrupt: CRC check failed"):
        import_file(bytes(broken), name="fr110.fit")


def test_a_wrong_header_crc_that_is_set_is_corrupt(make_fr110_fit):
    data = bytearray(make_fr110_fit(header_crc=True))
    data[12] ^= 0x01
    with pytest.raises(FormatError, match=r"^old\.fit: FIT file is corrupt: header CRC check failed"):
        import_file(bytes(data), name="old.fit")


@pytest.mark.parametrize("header_crc", [False, True])
def test_intact_settings_file_is_not_an_activity_rather_than_corrupt(make_settings_fit, header_crc):
    with pytest.raises(FormatError) as info:
        import_file(make_settings_fit(header_crc=header_crc), name="Settings.fit")
    assert info.value.problem == "not an activity: this FIT file holds settings data"


def test_records_with_compressed_timestamp_headers_are_read(make_fr110_fit):
    data = make_fr110_fit(n=600, header_crc=True)
    with fitdecode.FitReader(io.BytesIO(data)) as reader:
        headers = [
            f.time_offset for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "record"
        ]
    assert len(headers) == 600 and sum(h is not None for h in headers) == 599  # really compressed headers
    _, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert "Compressed timestamp" in str(errors[0])  # the SDK's limit, which used to refuse the file
    run = import_file(data, name="fr110.fit")
    # one record a second across many 32 s rollovers of the 5-bit time offset
    assert np.array_equal(run.streams.t_s, np.arange(600.0))
    assert run.streams.distance_m == pytest.approx(3.0 * np.arange(600.0), abs=0.01)
    assert np.nanmedian(run.streams.speed_mps) == pytest.approx(3.0)
    assert np.nanmedian(run.streams.cadence_spm) == pytest.approx(176.0)
    assert run.distance_m == pytest.approx(1797.0, abs=0.01)
    assert run.moving_time_s == pytest.approx(599.0)


def test_every_chained_fit_file_has_its_crc_checked(make_fr110_fit):
    one = make_fr110_fit(n=100)
    assert len(import_file(one + one, name="chained.fit").streams) == 100
    broken = bytearray(one + one)
    broken[len(one) + 300] ^= 0x10
    with pytest.raises(FormatError, match=rf"corrupt: chained FIT file at byte {len(one)}: CRC check failed"):
        import_file(bytes(broken), name="chained.fit")
    with pytest.raises(FormatError, match=rf"corrupt: the 20 bytes after byte {len(one)} are no FIT file"):
        import_file(one + bytes(20), name="padded.fit")


def test_a_refusal_names_its_kind_of_problem_for_the_runner_s_language(make_watch_fit):
    """Besides the English reason, the kind of problem and its values: the web app says it in Chinese too."""
    data = make_watch_fit(sport=Sport.CYCLING)
    with pytest.raises(FormatError) as info:
        import_file(data, name="ride.fit")
    assert (info.value.code, info.value.params) == ("not_a_run", {"sport": "cycling"})
    with pytest.raises(FormatError) as info:
        import_file(data[:40], name="cut.fit")  # before its first record
    assert (info.value.code, info.value.params) == ("truncated", {})
    with pytest.raises(FormatError) as info:
        import_file(data[:-2] + bytes([data[-2] ^ 1, data[-1]]), name="bad.fit")
    assert info.value.code == "corrupt"


def test_a_fit_activity_with_nothing_to_measure_a_distance_by_is_refused_as_such(make_activity_builder):
    """Timed records with neither distance, positions nor speed (a heart-rate-only recording)."""
    from fit_tool.profile.messages.record_message import RecordMessage

    b = make_activity_builder()
    for k in range(60):
        r = RecordMessage()
        r.timestamp = 1_780_000_000_000 + 1000 * k
        r.heart_rate = 120
        b.add(r)
    with pytest.raises(FormatError, match="neither distance, GPS positions nor speed") as info:
        import_file(b.build().to_bytes(), name="hr.fit")
    assert info.value.code == "no_distance"


def test_pauses_that_touch_once_written_in_whole_seconds_stay_two(realistic_run):
    """A timer started again and stopped within one second: its pauses meet in the file's whole seconds. They
    stay two (merging is for a multisport leg's gap that a timer pause overlaps), as hypothesis found."""
    assert realistic_run.start_time.microsecond == 0
    run = dataclasses.replace(
        realistic_run, pauses=[(100.0, 110.0), (110.3, 120.0)]
    )  # 110.3 s is written 110 s
    back = import_file(export_run(run, "fit"), name="touching.fit")
    assert len(back.pauses) == 2
    assert back.moving_time_s == pytest.approx(run.moving_time_s, abs=0.0011)


@pytest.mark.parametrize(
    ("data", "code", "params"),
    [
        (b"\x0e\x10\x64\x00\x00", "truncated", {}),  # a FIT header's first bytes, then nothing
        (b"\x0c\x10", "truncated", {}),
        (b"hello", "unknown_format", {"looks_like": "unknown data"}),
        (b"<a/>", "unknown_format", {"looks_like": "xml"}),
    ],
)
def test_a_fit_file_shorter_than_its_header_is_refused_by_what_it_looks_like(data, code, params):
    with pytest.raises(FormatError, match="shorter than a FIT header") as info:
        import_file(data, name="short.fit")
    assert (info.value.code, info.value.params) == (code, params)
