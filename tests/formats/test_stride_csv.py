"""Stride CSV: exact round trip, SI headers, clear errors for bad rows."""

from __future__ import annotations

import csv
import io

import pytest

from soleware.formats import STRIDE_COLUMNS, FormatError, export_run, read_strides_csv, write_strides_csv
from soleware.runs.model import Stride


def test_csv_has_one_row_per_stride_with_si_columns(realistic_run):
    rows = list(csv.reader(io.StringIO(export_run(realistic_run, "csv").decode())))
    assert tuple(rows[0]) == STRIDE_COLUMNS
    assert len(rows) - 1 == len(realistic_run.strides)
    assert all(
        c == "side"
        or c in ("strike_type", "gait", "estimated")
        or c.rsplit("_", 1)[-1] in {"s", "m", "mps", "spm", "deg", "g"}
        for c in rows[0]
    )
    starts = [float(r[1]) for r in rows[1:]]
    assert starts == sorted(starts)


def test_csv_round_trip_is_exact(realistic_run):
    back = read_strides_csv(export_run(realistic_run, "csv"))
    assert back == sorted(realistic_run.strides, key=lambda s: (s.t_start_s, s.side))


def test_csv_keeps_unknown_values_unknown():
    strides = [Stride(side="left", t_start_s=0.0, t_end_s=0.7, length_m=2.0)]
    data = write_strides_csv(strides)
    assert ",,," in data.decode()
    (back,) = read_strides_csv(data)
    assert back.contact_time_s is None and back.strike_type is None
    assert back == strides[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("side,t_start_s\nleft,0\n", "lacks column"),
        ("side,t_start_s,t_end_s,length_m\nleft,0,zero,1\n", "line 2: t_end_s is not a number"),
        ("side,t_start_s,t_end_s,length_m\nleft,0,1,1\nmiddle,1,2,1\n", "line 3: stride side"),
        ("side,t_start_s,t_end_s,length_m\nleft,0,nan,1\n", "not finite"),
    ],
)
def test_bad_csv_rows_are_rejected_with_line_numbers(text, problem):
    with pytest.raises(FormatError, match=problem) as info:
        read_strides_csv(text.encode(), name="strides.csv")
    assert str(info.value).startswith("strides.csv: ")


def test_csv_marks_estimated_strides_and_reads_files_without_the_column():
    strides = [
        Stride(side="left", t_start_s=0.0, t_end_s=0.7, length_m=2.0, contact_time_s=0.2),
        Stride(side="left", t_start_s=0.7, t_end_s=1.4, length_m=2.1, estimated=True),
    ]
    data = write_strides_csv(strides)
    assert [row[-1] for row in csv.reader(io.StringIO(data.decode()))] == ["estimated", "0", "1"]
    assert read_strides_csv(data) == strides
    older = b"side,t_start_s,t_end_s,length_m\nleft,0.0,0.7,2.0\n"
    assert not read_strides_csv(older)[0].estimated
    with pytest.raises(FormatError, match="line 2: estimated is not 0 or 1"):
        read_strides_csv(b"side,t_start_s,t_end_s,length_m,estimated\nleft,0.0,0.7,2.0,maybe\n")
