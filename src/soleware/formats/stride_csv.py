"""A run's strides as CSV: one row per stride, SI column names with units, empty cells for unknown values.

Floats are written with ``repr`` so reading gives back exactly the same strides. ``estimated`` is 1 for a stride
the engine estimated across a gap in the sensor data, 0 for a measured one (empty or absent: 0).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import numpy as np

from soleware.formats._safety import FormatError
from soleware.runs.model import RunDataError, Stride

__all__ = ["STRIDE_COLUMNS", "read_strides_csv", "write_strides_csv"]

#: the CSV header, in order (Stride field names: side, times s, length m, speed m/s, cadence steps/min, ...)
STRIDE_COLUMNS = (
    "side",
    "t_start_s",
    "t_end_s",
    "length_m",
    "speed_mps",
    "cadence_spm",
    "contact_time_s",
    "flight_time_s",
    "strike_angle_deg",
    "strike_type",
    "impact_g",
    "gait",
    "estimated",
)
_FLOATS = frozenset(STRIDE_COLUMNS) - {"side", "strike_type", "gait", "estimated"}
_FLAGS = {"0": False, "1": True, "false": False, "true": True}
_REQUIRED = ("side", "t_start_s", "t_end_s", "length_m")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def write_strides_csv(strides: Sequence[Stride]) -> bytes:
    """UTF-8 CSV of the strides, header STRIDE_COLUMNS, rows in start-time order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STRIDE_COLUMNS)
    for s in sorted(strides, key=lambda x: (x.t_start_s, x.side)):
        writer.writerow(_cell(getattr(s, c)) for c in STRIDE_COLUMNS)
    return out.getvalue().encode()


def read_strides_csv(data: bytes, *, name: str = "<bytes>") -> list[Stride]:
    """Strides from CSV with (at least) side, t_start_s, t_end_s and length_m columns; extra columns are ignored."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(name, f"stride CSV is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise FormatError(name, f"stride CSV lacks column(s) {', '.join(missing)}")
    strides: list[Stride] = []
    for row in reader:
        line = reader.line_num
        kwargs: dict[str, object] = {}
        for col in STRIDE_COLUMNS:
            cell = (row.get(col) or "").strip()
            if not cell:
                continue
            if col in _FLOATS:
                try:
                    value = float(cell)
                except ValueError:
                    raise FormatError(name, f"line {line}: {col} is not a number: {cell!r}") from None
                if not math.isfinite(value):
                    raise FormatError(name, f"line {line}: {col} is not finite: {cell!r}")
                kwargs[col] = value
            elif col == "estimated":
                if cell.lower() not in _FLAGS:
                    raise FormatError(name, f"line {line}: estimated is not 0 or 1: {cell!r}")
                kwargs[col] = _FLAGS[cell.lower()]
            else:
                kwargs[col] = cell
        try:
            strides.append(Stride(**kwargs))  # type: ignore[arg-type]
        except (RunDataError, ValueError, TypeError) as exc:
            raise FormatError(name, f"line {line}: {exc}") from exc
    return strides
