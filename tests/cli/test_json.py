"""The commands' JSON: dataclasses with slots, NaN and NumPy numbers become strict JSON."""

from __future__ import annotations

import dataclasses
import enum
import json
import math

import numpy as np
import pytest

from soleware.cli._json import dumps, jsonable


class Kind(enum.Enum):
    RUN = "run"


@dataclasses.dataclass(frozen=True, slots=True)
class Inner:
    speed_mps: float
    kind: Kind = Kind.RUN

    @property
    def pace_s_per_km(self) -> float:
        return 1000.0 / self.speed_mps


@dataclasses.dataclass
class Outer:
    inner: Inner
    values: tuple[float, ...]
    count: np.int64


def test_slots_dataclasses_nested_nan_numpy() -> None:
    """Fields only (no properties), non-finite floats as null, NumPy scalars and enums as plain values."""
    x = Outer(Inner(3.0), (1.5, math.nan, -math.inf, np.float32(2.5)), np.int64(7))
    assert jsonable(x) == {
        "inner": {"speed_mps": 3.0, "kind": "run"},
        "values": [1.5, None, None, 2.5],
        "count": 7,
    }
    assert json.loads(dumps([x, {"a": np.array([1, 2])}])) == [jsonable(x), {"a": [1, 2]}]


def test_what_json_cannot_carry_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"raw": b"\x00"})
