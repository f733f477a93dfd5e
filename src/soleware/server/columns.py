"""Numeric columns written as JSON text straight from numpy (orjson), byte for byte as pydantic writes the values.

A run's strides are ~10,000 rows of a dozen columns, its streams ~5,000 rows of six: turning each number into a
Python float and letting pydantic format it costs most of these routes' time. orjson writes a numpy array
without making Python objects, with the same shortest round-trip text for each double (``310.136``, ``4.0``,
``-0.0``) and ``null`` for NaN and ±inf; the values are the doubles the routes sent before: rounded to their
stored resolution, or the stored integers over a power of ten (correctly rounded, so the same double).
"""

from __future__ import annotations

import math

import numpy as np
import orjson

__all__ = ["float_column", "int_column", "json_object", "units_column"]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _decimals(resolution: float) -> int:
    decimals = round(-math.log10(resolution)) if resolution > 0 else 0
    if not 1 <= decimals <= 4 or not math.isclose(resolution, 10.0**-decimals):
        raise ValueError(f"resolution must be a power of ten from 1e-4 to 0.1, got {resolution}")
    return decimals


def float_column(values: np.ndarray, resolution: float) -> bytes:
    """The JSON array of ``values`` rounded to ``resolution`` (a power of ten, 1e-4 ... 0.1), NaN and ±inf as
    null: the bytes pydantic writes for the list of those Python floats."""
    decimals = _decimals(resolution)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.round(np.ascontiguousarray(values, np.float64), decimals)
    return orjson.dumps(rounded, option=_NUMPY)


def units_column(units: np.ndarray, resolution: float, *, missing: int | None = None) -> bytes:
    """The JSON array of integers ``units`` of ``resolution`` (a power of ten, 1e-4 ... 0.1) as floats, null
    where a unit is ``missing``: what ``float_column`` writes for ``units * resolution`` (stored values come as
    such integers)."""
    decimals = _decimals(resolution)
    a = np.asarray(units)
    if a.dtype.kind not in "iu":
        raise ValueError(f"units_column takes integers, got {a.dtype}")
    values = a / 10**decimals  # correctly rounded: the double nearest each stored value, as np.round gives it
    if missing is not None:
        values[a == missing] = np.nan
    return orjson.dumps(values, option=_NUMPY)


def int_column(values: np.ndarray) -> bytes:
    """The JSON array of integer ``values``, as pydantic writes their list."""
    a = np.asarray(values)
    if a.dtype.kind not in "iu":
        raise ValueError(f"int_column takes integers, got {a.dtype}")
    return orjson.dumps(np.ascontiguousarray(a, np.int64), option=_NUMPY)


def json_object(fields: dict[str, bytes]) -> bytes:
    """A JSON object of keys (plain identifiers) and values already written as JSON."""
    return b"{" + b",".join(b'"%s":%s' % (k.encode(), v) for k, v in fields.items()) + b"}"
