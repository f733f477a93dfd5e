"""Contract of the gait algorithm classes (STYLE.md section 1, gaitmap/tpcp style).

Every public class in ``soleware.gait`` is either an algorithm (listed in ``ACTIONS`` with a way to run its
action method on the bundled sample recording) or named in ``NOT_ALGORITHMS`` with the reason. An algorithm's
``__init__`` takes keyword-only parameters and only stores them under the same names; its action method returns
``self``; every public attribute the action sets ends in ``_``. Classes are discovered by walking the package,
so a new class fails here until it is classified.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import soleware.gait
from soleware.gait import (
    AdaptiveStanceDetector,
    ContactEventDetection,
    GaitAnalysis,
    Recording,
    StreamingGaitAnalysis,
    StrideIntegration,
    load_recording,
    sagittal_axis,
    sample_recording_path,
)
from soleware.gait.pipeline import RestBiases


@pytest.fixture(scope="module")
def rec() -> Recording:
    return load_recording(sample_recording_path())


def _stance_index(rec: Recording) -> np.ndarray:
    det = AdaptiveStanceDetector().detect(rec.acc_mps2, rec.gyr_rps, sample_rate_hz=rec.sample_rate_hz)
    return det.stance_index_


def _detect_stance(obj: Any, rec: Recording) -> Any:
    return obj.detect(rec.acc_mps2, rec.gyr_rps, sample_rate_hz=rec.sample_rate_hz)


def _detect_events(obj: Any, rec: Recording) -> Any:
    up = np.mean(rec.acc_mps2, axis=0)
    return obj.detect(
        rec.acc_mps2,
        rec.gyr_rps,
        sample_rate_hz=rec.sample_rate_hz,
        stance_index=_stance_index(rec),
        lateral_axis=sagittal_axis(rec.gyr_rps, up / np.linalg.norm(up)),
    )


def _integrate(obj: Any, rec: Recording) -> Any:
    k = _stance_index(rec)
    return obj.integrate(rec.t_s, rec.acc_mps2, rec.gyr_rps, starts=k[:-1], ends=k[1:])


def _feed(obj: Any, rec: Recording) -> Any:
    return obj.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=200)


#: algorithm class -> (action method name, runs the action on a recording, required __init__ arguments)
ACTIONS: dict[type, tuple[str, Callable[[Any, Recording], Any], Callable[[Recording], dict[str, Any]]]] = {
    AdaptiveStanceDetector: ("detect", _detect_stance, lambda rec: {}),
    ContactEventDetection: ("detect", _detect_events, lambda rec: {}),
    StrideIntegration: ("integrate", _integrate, lambda rec: {}),
    GaitAnalysis: ("analyze", lambda obj, rec: obj.analyze(rec), lambda rec: {}),
    # the nominal rate sizes the buffers: no default would be right for every sensor, so it is required
    StreamingGaitAnalysis: ("feed", _feed, lambda rec: {"sample_rate_hz": rec.sample_rate_hz}),
}

#: public classes that are not algorithms, and why
NOT_ALGORITHMS: dict[type, str] = {
    # a small piece of StreamingGaitAnalysis's state (gyroscope biases of past rests), not an algorithm
    RestBiases: "state holder with update()/at(), used inside the streaming analysis",
}


def _public_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(soleware.gait.__path__, prefix="soleware.gait."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{obj.__module__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


def _is_value_object(cls: type) -> bool:
    """Dataclasses (strides, summaries, recordings, evaluations), enums and exceptions hold values only."""
    return dataclasses.is_dataclass(cls) or issubclass(cls, (enum.Enum, BaseException))


ALGORITHMS = sorted(ACTIONS, key=lambda c: c.__name__)


def test_every_public_class_is_classified() -> None:
    unknown = [
        f"{c.__module__}.{c.__qualname__}"
        for c in _public_classes()
        if c not in ACTIONS and c not in NOT_ALGORITHMS and not _is_value_object(c)
    ]
    assert not unknown, f"add these to ACTIONS (and keep the conventions) or to NOT_ALGORITHMS: {unknown}"


def test_discovery_finds_the_algorithms() -> None:
    assert set(ACTIONS) <= set(_public_classes())
    assert not any(_is_value_object(c) for c in ACTIONS)


@pytest.mark.parametrize("cls", ALGORITHMS, ids=lambda c: c.__name__)
def test_init_takes_keyword_only_parameters(cls: type) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params, f"{cls.__name__} has no parameters"
    positional = [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert not positional, f"{cls.__name__}.__init__ parameters not keyword-only: {positional}"


@pytest.mark.parametrize("cls", ALGORITHMS, ids=lambda c: c.__name__)
def test_init_only_stores_its_parameters(cls: type, rec: Recording) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    required = ACTIONS[cls][2](rec)
    obj = cls(**required)
    expected = {p.name: required.get(p.name, p.default) for p in params}
    assert set(vars(obj)) == set(expected)
    for name, value in expected.items():
        assert getattr(obj, name) is value, name
    # a value given is stored as given, not copied or converted
    sentinel = object()
    name = params[0].name
    assert getattr(cls(**{**required, name: sentinel}), name) is sentinel


@pytest.mark.parametrize("cls", ALGORITHMS, ids=lambda c: c.__name__)
def test_action_returns_self_and_results_end_in_underscore(cls: type, rec: Recording) -> None:
    method, run, required = ACTIONS[cls]
    assert callable(getattr(cls, method))
    obj = cls(**required(rec))
    before = set(vars(obj))
    assert run(obj, rec) is obj
    added = {a for a in set(vars(obj)) - before if not a.startswith("_")}
    assert added, f"{cls.__name__}.{method} set no result"
    assert all(a.endswith("_") for a in added), sorted(a for a in added if not a.endswith("_"))
    # the parameters are untouched by the action
    assert {a: getattr(obj, a) for a in before} == {a: getattr(cls(**required(rec)), a) for a in before}


def test_the_package_names_load_lazily_from_their_modules() -> None:
    """Every name in ``soleware.gait.__all__`` is its module's own object; an unknown name is an AttributeError."""
    for name in soleware.gait.__all__:
        module = importlib.import_module(f"soleware.gait.{soleware.gait._MODULE_OF[name]}")
        assert getattr(soleware.gait, name) is getattr(module, name)
    assert set(soleware.gait.__all__) == set(soleware.gait._MODULE_OF) <= set(dir(soleware.gait))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = soleware.gait.nothing  # type: ignore[attr-defined]
