"""The public surface of soleware.formats: names, format choice, errors."""

from __future__ import annotations

import gzip

import pytest

import soleware.formats as formats
from soleware.formats import FormatError, export_run, import_file
from soleware.runs.model import Source


def test_public_names_are_sorted_and_exist():
    assert formats.__all__ == sorted(formats.__all__, key=lambda n: (not n.isupper(), n.islower(), n))
    for name in formats.__all__:
        assert hasattr(formats, name), name


def test_format_error_is_a_value_error_with_name_and_problem():
    exc = FormatError("a.fit", "file is empty")
    assert isinstance(exc, ValueError)
    assert str(exc) == "a.fit: file is empty"
    assert (exc.name, exc.problem) == ("a.fit", "file is empty")


def test_unknown_export_format_is_refused(realistic_run):
    with pytest.raises(ValueError, match="unknown export format 'kml'"):
        export_run(realistic_run, "kml")


@pytest.mark.parametrize("fmt", ["fit", "tcx"])
def test_format_is_sniffed_from_content_also_when_gzipped(realistic_run, fmt):
    data = export_run(realistic_run, fmt)
    assert import_file(data).source == Source(fmt).value
    assert import_file(gzip.compress(data), name="download").source == Source(fmt).value


def test_explicit_format_and_time_zone_win(realistic_run, tmp_path):
    path = tmp_path / "activity.bin"
    path.write_bytes(export_run(realistic_run, "fit"))
    run = import_file(path, fmt="fit", time_zone="Asia/Tokyo")
    assert run.time_zone == "Asia/Tokyo"
    assert import_file(path, fmt="FIT").time_zone == "Etc/GMT-1"  # Berlin in November, from the file's offset


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match=r"^gone\.fit: cannot read file"):
        import_file(tmp_path / "gone.fit")
