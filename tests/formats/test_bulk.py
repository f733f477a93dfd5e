"""Bulk import of folders and zip archives: ok / duplicate / rejected per file, progress, zip bomb guard."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from soleware.formats import export_run, import_paths
from soleware.runs.model import Run


def shifted(run: Run, days: int) -> Run:
    return dataclasses.replace(run, start_time=run.start_time + dt.timedelta(days=days))


def small_gpx(k: int, points: int = 40) -> bytes:
    """A tiny GPX run on day k (text template: fast enough for hundreds of files)."""
    t0 = dt.datetime(2024, 1, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=k)
    pts = "".join(
        f'<trkpt lat="{47 + i * 3e-5:.6f}" lon="8.5"><time>{(t0 + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")}</time></trkpt>'
        for i in range(points)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Run {k}</name><type>running</type><trkseg>{pts}'
        "</trkseg></trk></gpx>"
    ).encode()


@pytest.fixture
def export_folder(tmp_path, realistic_run):
    """A Strava-like export: nested folders, gzipped files, a photo, a PNG renamed .fit, a duplicate."""
    root = tmp_path / "export"
    (root / "activities" / "2026").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "activities" / "2026" / "a.fit").write_bytes(export_run(realistic_run, "fit"))
    (root / "activities" / "b.tcx.gz").write_bytes(
        gzip.compress(export_run(shifted(realistic_run, 1), "tcx"))
    )
    (root / "activities" / "c.gpx").write_bytes(small_gpx(3))
    (root / "activities" / "d-copy.tcx").write_bytes(export_run(realistic_run, "tcx"))  # same run as a.fit
    (root / "activities" / "e.fit").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (root / "activities" / "f.GPX").write_bytes(b"")
    (root / "media" / "photo.jpg").write_bytes(b"\xff\xd8\xff" + bytes(16))
    (root / "activities.csv").write_text("id,name\n1,x\n")
    return root


def test_folder_import_sorts_files_into_ok_duplicate_and_rejected(export_folder):
    calls = []
    report = import_paths(export_folder, progress=lambda done, total, name: calls.append((done, total, name)))
    status = {r.name: r.status for r in report.results}
    assert status == {
        "export/activities/2026/a.fit": "ok",
        "export/activities/b.tcx.gz": "ok",
        "export/activities/c.gpx": "ok",
        "export/activities/d-copy.tcx": "duplicate",
        "export/activities/e.fit": "rejected",
        "export/activities/f.GPX": "rejected",
    }
    by_name = {r.name: r for r in report.results}
    assert "PNG image" in by_name["export/activities/e.fit"].reason
    assert "empty" in by_name["export/activities/f.GPX"].reason
    # the kind of problem and its values, for a message in the runner's language
    e, f = by_name["export/activities/e.fit"], by_name["export/activities/f.GPX"]
    assert (e.code, e.params, f.code, f.params) == (
        "unknown_format",
        {"looks_like": "a PNG image"},
        "empty",
        {},
    )
    (dup,) = report.duplicates
    assert dup.duplicate_of == "export/activities/2026/a.fit"
    assert dup.run is not None and "same activity" in dup.reason
    assert sorted(report.skipped) == ["export/activities.csv", "export/media/photo.jpg"]
    assert [c[0] for c in calls] == list(range(1, 7))
    assert {c[1] for c in calls} == {6}
    assert len(report.runs) == 3


def test_a_file_named_on_its_own_that_is_no_activity_is_rejected_not_skipped(export_folder):
    """In a folder a photo or a CSV is skipped without a word; named by the runner, it gets a reason."""
    report = import_paths([export_folder / "activities.csv", export_folder / "media" / "photo.jpg"])
    assert {r.name: r.status for r in report.results} == {
        "activities.csv": "rejected",
        "photo.jpg": "rejected",
    }
    assert all("not an activity file" in r.reason for r in report.results)
    assert {r.code for r in report.results} == {"not_activity_file"}
    assert report.skipped == []


def test_existing_summaries_make_duplicates(export_folder, realistic_run):
    report = import_paths([export_folder], existing=[realistic_run.summary("run-1")])
    dups = {r.name: r.duplicate_of for r in report.duplicates}
    assert dups == {"export/activities/2026/a.fit": "run-1", "export/activities/d-copy.tcx": "run-1"}


def test_zip_archive_with_nested_folders_and_gz_members(tmp_path, realistic_run):
    path = tmp_path / "strava.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("activities/1.fit.gz", gzip.compress(export_run(realistic_run, "fit")))
        z.writestr("activities/old/2.gpx.gz", gzip.compress(small_gpx(2)))
        z.writestr("activities/old/3.tcx", export_run(shifted(realistic_run, 5), "tcx"))
        z.writestr("activities/inner.zip", b"PK\x05\x06" + bytes(18))
        z.writestr("profile.json", "{}")
    report = import_paths(path)
    assert {r.name: r.status for r in report.results} == {
        "strava.zip/activities/1.fit.gz": "ok",
        "strava.zip/activities/old/2.gpx.gz": "ok",
        "strava.zip/activities/old/3.tcx": "ok",
        "strava.zip/activities/inner.zip": "rejected",
    }
    assert report.skipped == ["strava.zip/profile.json"]
    assert report.runs[0].distance_m == pytest.approx(realistic_run.distance_m, abs=0.01)


def test_zip_bomb_member_is_stopped_without_reading_it_into_memory(tmp_path, realistic_run):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("activities/bomb.fit", bytes(40 * 1024 * 1024))
        z.writestr("activities/bomb2.gpx.gz", gzip.compress(bytes(40 * 1024 * 1024)))
        z.writestr("activities/fine.fit", export_run(realistic_run, "fit"))
    assert path.stat().st_size < 300_000
    tracemalloc.start()
    try:
        report = import_paths(path, max_bytes=2 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    status = {r.name.rsplit("/", 1)[-1]: (r.status, r.reason) for r in report.results}
    assert status["bomb.fit"][0] == "rejected" and "larger than the limit" in status["bomb.fit"][1]
    assert status["bomb2.gpx.gz"][0] == "rejected" and "larger than the limit" in status["bomb2.gpx.gz"][1]
    assert status["fine.fit"][0] == "ok"
    assert peak < 16 * 1024 * 1024


def test_archive_total_limit_rejects_the_rest(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as z:
        for k in range(6):
            z.writestr(f"{k}.gpx", small_gpx(k))
    size = len(small_gpx(0))
    report = import_paths(path, max_archive_bytes=3 * size)
    assert [r.status for r in report.results] == ["ok"] * 3 + ["rejected"] * 3
    assert "total limit" in report.results[-1].reason
    assert {(r.code, r.params["limit"]) for r in report.rejected} == {
        ("archive_too_large", f"{3 * size / 2**20:.3g} MB")
    }


def test_broken_zip_and_missing_path_are_rejected(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    report = import_paths([fake, tmp_path / "nope"])
    reasons = {r.name: r.reason for r in report.rejected}
    assert "not a readable zip archive" in reasons["fake.zip"]
    assert {r.name: r.code for r in report.rejected}["fake.zip"] == "damaged"
    assert reasons["nope"] == "no such file or folder"


def test_hundreds_of_files_from_one_zip(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(300):
            z.writestr(f"activities/{k // 100}/{k:03d}.gpx", small_gpx(k))
        z.writestr("activities/dup.gpx", small_gpx(17))
    t0 = time.perf_counter()
    report = import_paths(path)
    elapsed = time.perf_counter() - t0
    assert len(report.ok) == 300
    (dup,) = report.duplicates
    assert dup.name == "export.zip/activities/dup.gpx"
    assert dup.duplicate_of == "export.zip/activities/0/017.gpx"
    assert elapsed < 15.0


def test_zip_of_hundred_45_mib_members_is_refused_from_what_it_declares(tmp_path, make_zip_of_copies):
    """The issue's bomb: 100 members of 45 MiB of zeros (each under the 50 MiB limit) in a 4.7 MB zip."""
    path = tmp_path / "bomb.zip"
    make_zip_of_copies(path, [f"activities/{k:03d}.fit" for k in range(100)], bytes(45 * 2**20))
    assert path.stat().st_size < 5_000_000
    with zipfile.ZipFile(path) as z:  # a well-formed archive: zipfile reads a member back, CRC checked
        assert z.read("activities/042.fit") == bytes(45 * 2**20)
        info = z.getinfo("activities/042.fit")
    report = import_paths(path)
    assert len(report.rejected) == 100 and not report.ok
    ratio = info.file_size / info.compress_size
    assert ratio > 1000
    for r in report.rejected:
        assert r.reason.startswith(f"compressed data expands {ratio:.0f}:1"), r.reason
        assert "possible decompression bomb" in r.reason
        assert (r.code, r.params) == ("unsafe", {"kind": "expansion"})


def test_zip_member_that_looks_like_no_activity_is_refused_from_its_first_bytes(tmp_path, make_zip_of_copies):
    """Incompressible junk passes the ratio check; it is refused after its first kilobytes, not read whole."""
    path = tmp_path / "junk.zip"
    junk = np.random.default_rng(3).integers(0, 256, 8 * 2**20, dtype=np.uint8).tobytes()
    make_zip_of_copies(path, ["a.fit", "b.gpx"], junk)
    tracemalloc.start()
    try:
        report = import_paths(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.reason for r in report.results] == [
        "not a FIT, TCX or GPX activity (the data looks like unknown data)"
    ] * 2
    assert peak < 2 * 2**20  # neither 8 MiB member was held


def test_zip_member_with_a_fit_header_and_then_zeros_is_refused_by_its_ratio(tmp_path, make_zip_of_copies):
    path = tmp_path / "padded.zip"
    make_zip_of_copies(path, ["run.fit"], b"\x0e\x10\x64\x00\x00\x00\xd0\x02.FIT\x00\x00" + bytes(40 * 2**20))
    (result,) = import_paths(path).results
    assert result.status == "rejected" and "possible decompression bomb" in result.reason


def test_what_an_archive_holds_that_cannot_be_read_is_refused_by_its_kind(tmp_path):
    """A member protected by a password, an archive inside the archive, a member over the size limit, an archive
    cut short (no central directory) read as far as it can be: each refused with the code the runner's language
    names it by."""
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("inner.zip", b"PK\x05\x06" + bytes(18))
        z.writestr("big.gpx", small_gpx(1) + b" " * 2_000_000)
        z.writestr("ok.gpx", small_gpx(2))
        z.writestr("secret.gpx", small_gpx(3))
    data = bytearray(path.read_bytes())
    # zipfile writes no encryption: the member's entry in the central directory gets the "encrypted" flag (its
    # flags at 8 bytes into the entry, its name at 46)
    name_at = data.index(b"secret.gpx", data.index(b"PK\x01\x02"))
    data[name_at - 46 + 8] |= 1
    path.write_bytes(bytes(data))
    (tmp_path / "cut.zip").write_bytes(bytes(data[: len(data) // 2]))
    report = import_paths([path, tmp_path / "cut.zip"], max_bytes=1_000_000)
    got = {r.name: (r.status, r.code, r.params) for r in report.results}
    assert got == {
        "export.zip/big.gpx": ("rejected", "too_large", {"limit": "0.954 MB"}),
        "export.zip/inner.zip": ("rejected", "nested_archive", {}),
        "export.zip/ok.gpx": ("ok", "", {}),
        "export.zip/secret.gpx": ("rejected", "encrypted", {}),
        # cut in half, inside big.gpx: read from the members' own headers, which end at the one over the limit
        "cut.zip/inner.zip": ("rejected", "nested_archive", {}),
        "cut.zip/big.gpx": ("rejected", "too_large", {"limit": "0.954 MB"}),
        "cut.zip": ("rejected", "archive_cut_short", {"read": "1"}),
    }


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it writes each member's sizes after its data (a data descriptor),
    as exports streamed to a download are written."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.data += bytes(b)
        return len(b)


def _export_zip(realistic_run, *, streamed: bool) -> bytes:
    """Six runs (GPX, and a FIT of ``realistic_run`` fourth), a photo, deflated, in the order a watch app writes."""
    members = [(f"activities/{k}.gpx", small_gpx(k, points=400)) for k in range(3)]
    members += [("activities/3.fit", export_run(realistic_run, "fit"))]
    members += [(f"activities/{k}.gpx", small_gpx(k, points=400)) for k in (4, 5)]
    members += [("media/photo.jpg", b"\xff\xd8\xff" + bytes(5000))]
    out = _Unseekable() if streamed else io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:  # type: ignore[arg-type]
        for name, data in members:
            z.writestr(name, data)
    return bytes(out.data) if isinstance(out, _Unseekable) else out.getvalue()


@pytest.mark.parametrize("streamed", [False, True], ids=["sizes-in-headers", "data-descriptors"])
def test_an_archive_cut_short_gives_every_activity_before_the_cut(tmp_path, realistic_run, streamed):
    """A download of an export broken off has no central directory, which zipfile needs: its members are read
    from their own headers. Every activity before the cut is imported; the one the cut went through is read as
    far as it goes (a FIT file cut short is imported up to there, as one cut on its own); the archive says how
    many files it gave and that the rest is missing. Cut only in its index, nothing is missing."""
    data = _export_zip(realistic_run, streamed=streamed)
    index = data.index(b"PK\x01\x02")
    fit_at = data.index(b"activities/3.fit")
    fit_end = data.index(b"PK\x03\x04", fit_at)
    cuts = {"index": index + 30, "fit": (fit_at + fit_end) // 2, "first": 100}
    for what, at in cuts.items():
        (tmp_path / f"{what}.zip").write_bytes(data[:at])
    reports = {what: import_paths(tmp_path / f"{what}.zip") for what in cuts}  # each apart: no duplicates
    got = {r.name: (r.status, r.code, r.params) for report in reports.values() for r in report.results}
    assert {k: v for k, v in got.items() if k.startswith("index.zip")} == {
        f"index.zip/activities/{k}.{'fit' if k == 3 else 'gpx'}": ("ok", "", {}) for k in range(6)
    }
    assert reports["index"].skipped == ["index.zip/media/photo.jpg"]
    assert {k: v for k, v in got.items() if k.startswith("fit.zip")} == {
        "fit.zip/activities/0.gpx": ("ok", "", {}),
        "fit.zip/activities/1.gpx": ("ok", "", {}),
        "fit.zip/activities/2.gpx": ("ok", "", {}),
        "fit.zip/activities/3.fit": ("ok", "cut_short", got["fit.zip/activities/3.fit"][2]),
        "fit.zip": ("rejected", "archive_cut_short", {"read": "3"}),
    }
    cut_run = next(r.run for r in reports["fit"].results if r.name == "fit.zip/activities/3.fit")
    assert 0 < cut_run.elapsed_time_s < realistic_run.elapsed_time_s
    assert got["first.zip"] == ("rejected", "archive_cut_short", {"read": "0"})
    assert reports["first"].ok == []


def test_an_archive_cut_short_with_an_encrypted_member_gives_what_comes_before_it(tmp_path):
    """Without the index, an encrypted member is found at its own header (flag bit 0), before its name is read: what
    came before it is imported, and the archive's row says a file behind them is protected by a password."""
    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k, name in enumerate(("a.gpx", "secret.gpx", "c.gpx")):
            z.writestr(name, small_gpx(k, points=300))
    data = bytearray(whole.getvalue())
    header = data.index(b"secret.gpx") - 30
    assert data[header : header + 4] == b"PK\x03\x04"
    data[header + 6] |= 1  # the general purpose flags of its local header: encrypted
    (tmp_path / "export.zip").write_bytes(bytes(data[: data.index(b"PK\x01\x02") - 5]))
    report = import_paths(tmp_path / "export.zip")
    assert {r.name: (r.status, r.code) for r in report.results} == {
        "export.zip/a.gpx": ("ok", ""),
        "export.zip": ("rejected", "encrypted"),
    }
    assert "after its first 1" in next(r.reason for r in report.results if r.name == "export.zip")


def test_an_archive_cut_short_is_held_to_the_archive_caps(tmp_path):
    """Without an index nothing is known of a member before it is inflated: the archive's expansion ratio and
    total cap (of the activities held, not of the photos read past) stop the reading, and what was read before
    stays."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.gpx", small_gpx(1))
        z.writestr("b.fit", b"\x0e\x10" + bytes(6) + b".FIT" + bytes(20_000_000))
    data = bomb.getvalue()
    (tmp_path / "bomb.zip").write_bytes(data[: data.index(b"PK\x01\x02") - 10])
    report = import_paths([tmp_path / "bomb.zip"])
    got = {r.name: (r.status, r.code) for r in report.results}
    assert got == {"bomb.zip/a.gpx": ("ok", ""), "bomb.zip": ("rejected", "unsafe")}
    many = io.BytesIO()
    size = len(small_gpx(0, points=400))
    with zipfile.ZipFile(many, "w") as z:
        # a photo larger than the cap, read past: the cap counts activities, as the index path reads them
        z.writestr("media/photo.jpg", np.random.default_rng(1).bytes(3 * size))
        for k in range(5):
            z.writestr(f"{k}.gpx", small_gpx(k, points=400))
    data = many.getvalue()
    (tmp_path / "many.zip").write_bytes(data[: data.index(b"PK\x01\x02") - 10])
    report = import_paths([tmp_path / "many.zip"], max_archive_bytes=int(2.5 * size))
    got = {r.name: (r.status, r.code) for r in report.results}
    assert got == {
        "many.zip/0.gpx": ("ok", ""),
        "many.zip/1.gpx": ("ok", ""),
        "many.zip": ("rejected", "archive_too_large"),
    }
    assert report.skipped == ["many.zip/media/photo.jpg"]
