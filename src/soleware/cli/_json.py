"""JSON output of the ``soleware`` commands: dataclasses (with or without slots) and numbers as strict JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def jsonable(x: object) -> Any:
    """``x`` as plain JSON values.

    Dataclass instances become dicts of their fields (read with ``dataclasses.fields``, so slots classes work and
    properties stay out), non-finite floats become ``None`` (JSON has no NaN), enums their value, NumPy scalars and
    arrays Python numbers and lists, paths and datetimes strings. Anything else is left for `json.dumps` to refuse.
    """
    if isinstance(x, bool | int | str) or x is None:
        return x.value if isinstance(x, enum.Enum) else x
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer | np.bool_):
        return x.item()
    if isinstance(x, enum.Enum):
        return jsonable(x.value)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, dt.datetime | dt.date):
        return x.isoformat()
    return x


def dumps(x: object, **kwargs: Any) -> str:
    """Strict JSON text of ``x`` (see `jsonable`); raises `TypeError` or `ValueError` rather than writing NaN."""
    return json.dumps(jsonable(x), allow_nan=False, **kwargs)
