"""The column encoder writes the bytes pydantic writes for the same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from soleware.server.columns import float_column, int_column, json_object, units_column

FLOATS = TypeAdapter(list[float | None])
INTS = TypeAdapter(list[int])


def pydantic_column(values: np.ndarray, resolution: float) -> bytes:
    """What the routes wrote before: the values rounded to the resolution as Python floats, NaN as None."""
    with np.errstate(over="ignore"):
        rounded = np.round(np.asarray(values, np.float64), round(-math.log10(resolution)))
    return FLOATS.dump_json([float(x) if np.isfinite(x) else None for x in rounded])


@pytest.mark.parametrize("resolution", [1e-1, 1e-2, 1e-3, 1e-4])
@pytest.mark.parametrize("scale", [1.0, 300.0, 5_000.0, 1e6, 1e9])
def test_float_column_is_pydantic_bytes(resolution: float, scale: float) -> None:
    rng = np.random.default_rng(round(scale) + round(1 / resolution))
    a = rng.uniform(-scale, scale, 5000)
    a[::7] = np.nan
    a[::11] = np.round(a[::11])  # whole numbers: "12.0"
    a[::13] = np.round(a[::13], 1)  # trailing zeros dropped
    a[:10] = [0.0, -0.0, -1e-9, 1e-4, -1e-4, 0.5 * resolution, np.inf, -np.inf, 9999.9999, 10_000.0]
    assert float_column(a, resolution) == pydantic_column(a, resolution)


def test_float_column_beyond_its_table_goes_through_pydantic() -> None:
    a = np.array([1e13, -2.5e15, 1.25, np.nan, 1e300])
    assert float_column(a, 1e-3) == pydantic_column(a, 1e-3)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(-1e8, 1e8) | st.floats() | st.sampled_from([np.nan, np.inf, -0.0, 5e-5]), max_size=40),
    st.sampled_from([1e-1, 1e-2, 1e-3, 1e-4]),
)
def test_float_column_any_values(values: list[float], resolution: float) -> None:
    a = np.array(values, np.float64)
    assert float_column(a, resolution) == pydantic_column(a, resolution)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**15), max_value=10**15), max_size=40))
def test_int_column_any_values(values: list[int]) -> None:
    assert int_column(np.array(values, np.int64)) == INTS.dump_json(values)


def test_edges() -> None:
    assert float_column(np.array([]), 1e-3) == b"[]"
    assert int_column(np.array([], np.int64)) == b"[]"
    assert int_column(np.array([-1, 0, 2, 10_000, -12_345_678])) == b"[-1,0,2,10000,-12345678]"
    assert float_column(np.array([310.13607943496237, 4.0, np.nan]), 1e-3) == b"[310.136,4.0,null]"
    with pytest.raises(ValueError, match="power of ten"):
        float_column(np.array([1.0]), 0.5)
    with pytest.raises(ValueError, match="power of ten"):
        float_column(np.array([1.0]), 1.0)
    with pytest.raises(ValueError, match="integers"):
        int_column(np.array([1.5]))
    assert json_object({"a": b"[1]", "b": b"null"}) == b'{"a":[1],"b":null}'


def test_small_and_large_numbers_take_either_table() -> None:
    small = np.array([0.9999, -0.0001, np.nan, -0.0, 0.5])
    assert float_column(small, 1e-4) == b"[0.9999,-0.0001,null,-0.0,0.5]"
    assert float_column(np.append(small, 1.0), 1e-4) == b"[0.9999,-0.0001,null,-0.0,0.5,1.0]"
    assert int_column(np.array([9999, -9999, 0])) == b"[9999,-9999,0]"
    assert int_column(np.array([9999, -10_000, 0])) == b"[9999,-10000,0]"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-(10**14), 10**14) | st.integers(-20_000, 20_000) | st.just(-(2**31)), max_size=40),
    st.sampled_from([1e-1, 1e-2, 1e-3, 1e-4]),
)
def test_units_column_is_the_float_columns_bytes(units: list[int], resolution: float) -> None:
    """Integers of a resolution are written as their values are: the double nearest units / 10**decimals."""
    a = np.array(units, np.int64)
    values = np.where(a == -(2**31), np.nan, a / round(1 / resolution))
    assert units_column(a, resolution, missing=-(2**31)) == pydantic_column(values, resolution)
    with pytest.raises(ValueError, match="integers"):
        units_column(values, resolution)
