"""Files cut short (a watch whose battery died while it wrote the file, a copy broken off): the run up to the cut
is imported with a note saying where the file stops; only a file cut before its second timed sample is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from fit_tool.profile.profile_type import Sport

from soleware.formats import FormatError, FormatNote, export_run, import_file
from soleware.formats.bulk import import_paths


@pytest.fixture(params=["watch.fit", "fr110.fit", "ours.fit", "ours.tcx", "track.gpx"])
def whole_file(request, make_watch_fit, make_fr110_fit, make_gpx, realistic_run) -> tuple[str, bytes]:
    make = {
        "watch.fit": lambda: make_watch_fit(n=600, with_distance=True),
        "fr110.fit": lambda: make_fr110_fit(n=300),
        "ours.fit": lambda: export_run(realistic_run, "fit"),
        "ours.tcx": lambda: export_run(realistic_run, "tcx"),
        "track.gpx": lambda: make_gpx(segments=(300,)),
    }
    return request.param, make[request.param]()


def test_a_file_cut_anywhere_gives_its_run_up_to_the_cut(whole_file):
    """Cut at 80 places: each cut past the header imports with a note (where it stops) or is refused as truncated;
    the run grows with the cut and never past the whole file's."""
    name, data = whole_file
    whole = import_file(data, name=name)
    distances, refused = [], 0
    for cut in np.linspace(64, len(data) - 3, 80).astype(int):
        notes: list[FormatNote] = []
        try:
            run = import_file(data[:cut], name=name, notes=notes)
        except FormatError as exc:
            assert exc.code == "truncated", (cut, str(exc))
            refused += 1
            continue
        assert run.distance_m <= whole.distance_m + 1e-6 and run.elapsed_time_s <= whole.elapsed_time_s + 1.0
        distances.append(run.distance_m)
        if notes:
            (note,) = notes
            assert note.code == "cut_short" and "cut short" in note.problem and note.name == name
            end = run.start_time + dt.timedelta(seconds=float(run.streams.t_s[-1]))
            assert dt.datetime.fromisoformat(note.params["ends"]) == end
        else:  # only the summary after the last record was lost: the run is whole
            assert run.distance_m == pytest.approx(whole.distance_m)
    assert refused <= 8
    assert np.all(np.diff(distances) >= -1e-6)
    assert distances[-1] == pytest.approx(whole.distance_m, rel=0.01)
    notes = []
    import_file(data, name=name, notes=notes)
    assert notes == []


def test_a_cut_fit_keeps_every_record_before_the_cut_as_the_whole_file_has_it(make_watch_fit):
    data = make_watch_fit(n=600, with_distance=True)
    whole = import_file(data, name="w.fit")
    notes: list[FormatNote] = []
    half = import_file(data[: len(data) // 2], name="w.fit", notes=notes)
    n = len(half.streams.t_s)
    assert 250 < n < 350
    np.testing.assert_array_equal(half.streams.t_s, whole.streams.t_s[:n])
    np.testing.assert_array_equal(half.streams.distance_m, whole.streams.distance_m[:n])
    assert half.distance_m == pytest.approx(half.streams.distance_m[-1] - half.streams.distance_m[0])
    assert notes[0].params == {"ends": (half.start_time + dt.timedelta(seconds=n - 1)).isoformat()}


def test_a_fit_file_missing_only_its_checksum_is_whole(make_watch_fit):
    """Records and summary are all there (the watch stopped while it wrote the last two bytes): nothing is lost,
    nothing to note."""
    data = make_watch_fit(n=300, with_distance=True, pause=(100, 130))
    whole = import_file(data, name="w.fit")
    notes: list[FormatNote] = []
    run = import_file(data[:-2], name="w.fit", notes=notes)
    assert notes == []
    assert (run.distance_m, run.elapsed_time_s, run.moving_time_s, run.pauses) == (
        whole.distance_m,
        whole.elapsed_time_s,
        whole.moving_time_s,
        whole.pauses,
    )


def test_a_summary_written_before_the_records_does_not_count_what_the_cut_lost(make_summary_first_fit):
    data = make_summary_first_fit()
    assert import_file(data, name="app.fit").distance_m == pytest.approx(
        10_000.0
    )  # whole: its summary counts
    notes: list[FormatNote] = []
    run = import_file(data[: len(data) * 2 // 3], name="app.fit", notes=notes)
    assert run.distance_m == pytest.approx(run.streams.distance_m[-1]) and run.distance_m < 1800.0
    assert run.elapsed_time_s == pytest.approx(run.streams.t_s[-1])
    assert notes[0].code == "cut_short"


def test_a_cut_tail_that_decodes_as_a_record_decades_later_is_left_out(make_summary_first_fit):
    """Nothing checks the bytes of a file cut short: a record past the end of its summary is no longer the run."""
    notes: list[FormatNote] = []
    run = import_file(make_summary_first_fit(n=100, stray=True)[:-2], name="app.fit", notes=notes)
    assert run.elapsed_time_s == pytest.approx(99.0) and run.distance_m == pytest.approx(297.0)
    assert notes[0].code == "cut_short"


def test_a_ride_cut_before_its_summary_is_refused_by_its_sport_message(make_summary_first_fit):
    data = make_summary_first_fit(sport=Sport.CYCLING, session=False)
    with pytest.raises(FormatError) as info:
        import_file(data[: len(data) // 2], name="ride.fit")
    assert (info.value.code, info.value.params) == ("not_a_run", {"sport": "cycling"})
    run = import_file(make_summary_first_fit(session=False)[:-40], name="run.fit")  # a run's is no hindrance
    assert run.distance_m > 1000.0


def test_a_cut_tcx_counts_its_trackpoints_not_its_lap_totals(realistic_run):
    data = export_run(realistic_run, "tcx")
    notes: list[FormatNote] = []
    run = import_file(data[: len(data) // 2], name="run.tcx", notes=notes)
    assert run.distance_m == pytest.approx(run.streams.distance_m[-1] - run.streams.distance_m[0])
    assert run.distance_m < 0.6 * realistic_run.distance_m
    assert notes[0].code == "cut_short" and "the document stops at line" in notes[0].problem


def test_an_import_says_which_files_it_read_only_up_to_their_cut(
    tmp_path, make_watch_fit, make_summary_first_fit
):
    (tmp_path / "whole.fit").write_bytes(make_watch_fit(n=200, with_distance=True))
    cut = make_summary_first_fit()
    (tmp_path / "cut.fit").write_bytes(cut[: len(cut) // 2])
    report = import_paths(tmp_path)
    by_name = {Path(r.name).name: r for r in report.results}
    assert [r.status for r in report.results] == ["ok", "ok"]
    assert by_name["cut.fit"].code == "cut_short" and "cut short" in by_name["cut.fit"].reason
    assert set(by_name["cut.fit"].params) == {"ends"}
    assert (by_name["whole.fit"].code, by_name["whole.fit"].reason) == ("", "")


def test_a_file_cut_short_and_its_whole_copy_are_one_run(tmp_path, make_watch_fit):
    """One recording, two files (a copy broken off, then copied again): the whole one is kept, in whichever
    order they come, in one import or two, and a run stored from the cut one gives it its place."""
    whole = make_watch_fit(n=600, with_distance=True)
    (tmp_path / "a-cut.fit").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "b-whole.fit").write_bytes(whole)
    by_name = {Path(r.name).name: r for r in import_paths(tmp_path).results}
    assert by_name["a-cut.fit"].status == "duplicate"
    assert Path(by_name["a-cut.fit"].duplicate_of).name == "b-whole.fit"
    assert by_name["b-whole.fit"].status == "ok" and by_name["b-whole.fit"].replaces is None
    (tmp_path / "b-whole.fit").rename(tmp_path / "0-whole.fit")  # the whole one first
    by_name = {Path(r.name).name: r for r in import_paths(tmp_path).results}
    assert by_name["a-cut.fit"].status == "duplicate"
    assert Path(by_name["a-cut.fit"].duplicate_of).name == "0-whole.fit"


def test_a_whole_file_takes_the_place_of_its_cut_copy_in_the_history(
    tmp_path, make_watch_fit, make_gpx, make_summary_first_fit
):
    from soleware.formats.history import import_into
    from soleware.runs.storage import RunStore
    from soleware.runs.storage.db import make_engine
    from soleware.runs.storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    upgrade(engine)
    store = RunStore(engine)
    runner = store.create_runner("a@example.com", "long enough password").id
    whole = make_watch_fit(n=600, with_distance=True)
    (tmp_path / "cut.fit").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "whole.fit").write_bytes(whole)
    (tmp_path / "other.gpx").write_bytes(make_gpx())  # another run, its own start
    (first,) = import_into(store, runner, [tmp_path / "cut.fit"])
    assert (first.status, first.code) == ("imported", "cut_short")
    assert store.get_run(runner, first.run_id).cut_short  # kept with the run, for its page
    again = {o.name: o for o in import_into(store, runner, [tmp_path / "cut.fit", tmp_path / "other.gpx"])}
    assert again["cut.fit"].status == "duplicate" and again["other.gpx"].status == "imported"
    (then,) = import_into(store, runner, [tmp_path / "whole.fit"])
    assert then.status == "imported" and then.run_id != first.run_id
    assert not store.run_view(runner, then.run_id).run.cut_short
    summaries = store.summaries(runner)
    assert len(summaries) == 2 and first.run_id not in {s.run_id for s in summaries}
    assert max(s.distance_m for s in summaries) == pytest.approx(import_file(whole).distance_m)
    (late,) = import_into(store, runner, [tmp_path / "cut.fit"])  # the cut copy once more: part of it
    assert (late.status, late.run_id) == ("duplicate", then.run_id)
    # a stored cut copy, then a longer cut copy and the whole file in one import: the whole one is left
    other = make_summary_first_fit(n=900)  # another recording, a day later
    (tmp_path / "b-third.fit").write_bytes(other[: len(other) // 3])
    import_into(store, runner, [tmp_path / "b-third.fit"])
    (tmp_path / "c-two-thirds.fit").write_bytes(other[: 2 * len(other) // 3])
    (tmp_path / "d-whole.fit").write_bytes(other)
    both = import_into(store, runner, [tmp_path / "c-two-thirds.fit", tmp_path / "d-whole.fit"])
    assert [o.status for o in both] == ["duplicate", "imported"]
    kept = [s for s in store.summaries(runner) if abs(s.distance_m - import_file(other).distance_m) < 1.0]
    assert len(store.summaries(runner)) == 3 and len(kept) == 1
    engine.dispose()
