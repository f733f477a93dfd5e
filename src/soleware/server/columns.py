"""Numeric columns written as JSON text by numpy, byte for byte as pydantic writes the same values.

A run's strides are ~10,000 rows of a dozen columns, its streams ~5,000 rows of six: turning each number into a
Python float and letting pydantic format it costs ~0.15 µs a number, most of these routes' time. The values are
stored at a fixed decimal resolution, so their shortest round-trip text (what pydantic writes) is the stored
integer with a decimal point set in: ``310.136`` for 310136 at 1e-3, ``4.0`` for 4000, ``-0.0``, and ``null``
for NaN. :func:`float_column` (and :func:`units_column`, from the stored integers themselves) writes these for a
whole column at once: each number's text is looked up whole when it is below 10,000 units, else built from
4-digit groups and its decimals; the texts are NUL-padded words, and deleting the NULs joins them.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from pydantic import TypeAdapter

__all__ = ["float_column", "int_column", "json_object", "units_column"]

#: integers written through the digit tables: below 10**_DIGITS (larger ones go through pydantic)
_DIGITS = 12


def _words(texts: list[str], dtype: str) -> np.ndarray:
    """Texts as NUL-padded little-endian words (``dtype`` "<u4" or "<u8")."""
    size = np.dtype(dtype).itemsize
    return np.array([t.encode().ljust(size, b"\0") for t in texts], f"S{size}").view(dtype)


#: 0 ... 9999 as the four digits of a group inside a number; as its leading group (NULs for leading zeros: all
#: NUL for 0); as its only group (0 as "0")
_GROUP = _words([f"{k:04d}" for k in range(10_000)], "<u4")
_LEADING = _words(["" if k == 0 else str(k) for k in range(10_000)], "<u4")
_ONLY = _words([str(k) for k in range(10_000)], "<u4")
#: for 1 ... 4 decimals: ".d…d," of 0 ... 10**p - 1 without trailing zeros (at least one decimal), NUL-padded
_DECIMALS = {
    p: _words(["." + (f"{k:0{p}d}".rstrip("0") or "0") + "," for k in range(10**p)], "<u8")
    for p in (1, 2, 3, 4)
}
_NULL_WIDE = _words(["null,"], "<u8")[0]
_COMMA = _words([","], "<u4")[0]
_COMMA_WIDE = _words([","], "<u8")[0]
_MINUS = _words(["-"], "<u4")[0]
_NULL = _words(["null"], "<u4")[0]
#: numbers below 10**_SMALL (all but times and distances) are looked up whole: one word per number
_SMALL = 4
_FLOATS: TypeAdapter[list[float | None]] = TypeAdapter(list[float | None])
_INTS: TypeAdapter[list[int]] = TypeAdapter(list[int])


def _decimals(resolution: float) -> int:
    decimals = round(-math.log10(resolution)) if resolution > 0 else 0
    if not 1 <= decimals <= 4 or not math.isclose(resolution, 10.0**-decimals):
        raise ValueError(f"resolution must be a power of ten from 1e-4 to 0.1, got {resolution}")
    return decimals


def float_column(values: np.ndarray, resolution: float) -> bytes:
    """The JSON array of ``values`` rounded to ``resolution`` (a power of ten, 1e-4 ... 0.1), NaN and ±inf as
    null: the bytes pydantic writes for the list of those Python floats."""
    decimals = _decimals(resolution)
    # np.round(values, decimals) is this integer over 10**decimals: the text is the integer's, point set in
    with np.errstate(over="ignore"):  # beyond 1e304: inf, null as np.round makes it
        scaled = np.rint(np.asarray(values, np.float64) * 10**decimals)
    known = np.isfinite(scaled)
    null = None if known.all() else ~known
    if null is not None:
        scaled[null] = 0.0
    magnitude = np.abs(scaled)
    top = magnitude.max() if len(magnitude) else 0.0
    if top >= 10.0**_DIGITS:
        with np.errstate(over="ignore"):
            rounded = np.round(np.asarray(values, np.float64), decimals)
        out: list[float | None] = rounded.tolist()
        for k in np.flatnonzero(~np.isfinite(rounded)).tolist():
            out[k] = None
        return _FLOATS.dump_json(out)
    negative = np.signbit(scaled)
    if top < 10**_SMALL:
        return _small_numbers(magnitude, negative if negative.any() else None, null, decimals)
    return _numbers(magnitude, negative if negative.any() else None, null, decimals)


def units_column(units: np.ndarray, resolution: float, *, missing: int | None = None) -> bytes:
    """The JSON array of integers ``units`` of ``resolution`` (a power of ten, 1e-4 ... 0.1) as floats, null
    where a unit is ``missing``: what ``float_column`` writes for ``units * resolution`` (stored values come as
    such integers: no float on the way)."""
    decimals = _decimals(resolution)
    a = np.asarray(units)
    if a.dtype.kind not in "iu":
        raise ValueError(f"units_column takes integers, got {a.dtype}")
    null = None
    if missing is not None:
        unknown = a == missing
        if unknown.any():
            null, a = unknown, np.where(unknown, 0, a)
    magnitude = np.abs(a)
    negative = a < 0
    top = magnitude.max() if len(a) else 0
    if top >= 10**_DIGITS:
        values = a / 10**decimals  # the double nearest each value, as stored values are read
        return float_column(values if null is None else np.where(null, np.nan, values), resolution)
    sign = negative if negative.any() else None
    if top < 10**_SMALL:
        return _small_numbers(magnitude, sign, null, decimals)
    return _numbers(magnitude.astype(np.float64), sign, null, decimals)


def int_column(values: np.ndarray) -> bytes:
    """The JSON array of integer ``values``, as pydantic writes their list."""
    a = np.asarray(values)
    if a.dtype.kind not in "iu":
        raise ValueError(f"int_column takes integers, got {a.dtype}")
    if len(a) and (a.max() >= 10**_DIGITS or a.min() <= -(10**_DIGITS)):
        return _INTS.dump_json(a.tolist())
    negative = a < 0
    magnitude = np.abs(a)
    if len(a) and magnitude.max() < 10**_SMALL:
        return _small_numbers(magnitude, negative if negative.any() else None, None, 0)
    return _numbers(magnitude.astype(np.float64), negative if negative.any() else None, None, 0)


def json_object(fields: dict[str, bytes]) -> bytes:
    """A JSON object of keys (plain identifiers) and values already written as JSON."""
    return b"{" + b",".join(b'"%s":%s' % (k.encode(), v) for k, v in fields.items()) + b"}"


@functools.cache
def _whole_texts(decimals: int, sign: str) -> np.ndarray:
    """The texts of ``q / 10**decimals`` for q in 0 ... 10**_SMALL - 1 (integers for 0 decimals), each with
    ``sign`` before and a comma after, as NUL-padded words."""
    if not decimals:
        return _words([f"{sign}{q}," for q in range(10**_SMALL)], "<u8")
    fracs = [(f"{k:0{decimals}d}".rstrip("0") or "0") for k in range(10**decimals)]
    return _words([f"{sign}{q // 10**decimals}.{fracs[q % 10**decimals]}," for q in range(10**_SMALL)], "<u8")


def _small_numbers(
    q: np.ndarray, negative: np.ndarray | None, null: np.ndarray | None, decimals: int
) -> bytes:
    """What ``_numbers`` writes, for ``q`` below 10**_SMALL: each number's whole text looked up at once."""
    if len(q) == 0:
        return b"[]"
    index = q.astype(np.intp)
    words = np.take(_whole_texts(decimals, ""), index)
    if negative is not None:
        words = np.where(negative, np.take(_whole_texts(decimals, "-"), index), words)
    if null is not None:
        words[null] = _NULL_WIDE
    return b"[" + words.tobytes().translate(None, b"\0")[:-1] + b"]"


def _numbers(q: np.ndarray, negative: np.ndarray | None, null: np.ndarray | None, decimals: int) -> bytes:
    """The JSON array of the non-negative integers ``q`` (floats, < 10**_DIGITS) as ``q / 10**decimals`` with at
    least one decimal, or as integers for ``decimals`` 0; with a minus where ``negative``, null where ``null``
    (None: nowhere).

    Number k is row k of a table of words: its sign (when any number has one), its integer part in 4-digit
    groups, its decimals and a comma; every byte that is not part of its text (leading zeros, trailing decimal
    zeros, unused groups) is NUL, and deleting the NULs from the whole table leaves the numbers' texts one
    after the other."""
    n = len(q)
    if n == 0:
        return b"[]"
    # exact: whole numbers below 2**53, and a quotient never rounds up to the next whole number (np.divmod gives
    # the same, five times slower)
    whole = np.floor(q / 10**decimals) if decimals else q
    groups = max(1, -(-len(str(int(whole.max()))) // 4))
    first = 0 if negative is None else 1  # the word of the sign, if any number has one
    table = np.empty((n, first + groups + (2 if decimals else 1)), "<u4")
    if negative is not None:
        table[:, 0] = np.where(negative, _MINUS, 0)
    rest = whole
    for g in range(first + groups - 1, first - 1, -1):  # the last group first
        if g == first:
            table[:, g] = np.take(_ONLY if groups == 1 else _LEADING, rest.astype(np.intp))
            break
        higher = np.floor(rest / 10_000)
        group = (rest - higher * 10_000).astype(np.intp)
        rest = higher
        lead = np.take(_ONLY if g == first + groups - 1 else _LEADING, group)
        table[:, g] = np.where(rest > 0, np.take(_GROUP, group), lead)
    end = table[:, first + groups :]
    if decimals:
        frac = (q - whole * 10**decimals).astype(np.intp)
        end.view("<u8")[:, 0] = np.take(_DECIMALS[decimals], frac)
    else:
        end[:, 0] = _COMMA
    if null is not None:
        table[null, : first + groups] = 0
        table[null, first + groups - 1] = _NULL
        if decimals:
            end.view("<u8")[null, 0] = _COMMA_WIDE
    return b"[" + table.tobytes().translate(None, b"\0")[:-1] + b"]"
