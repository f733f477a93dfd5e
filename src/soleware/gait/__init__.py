"""The gait engine: IMU samples of one foot to strides, distance and running form. Depends on numpy/scipy only.

The names below load with their module on first use (PEP 562): ``soleware analyze`` imports the pipeline and the
loader, not the evaluation or the streaming engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soleware.gait.evaluation import Evaluation, evaluate_folder, evaluate_recording
    from soleware.gait.events import ContactEventDetection, sagittal_axis
    from soleware.gait.navigation import StrideIntegration
    from soleware.gait.pipeline import GaitAnalysis, RunSummary, Stride, strike_type
    from soleware.gait.recording import (
        GroundTruth,
        Recording,
        RecordingError,
        load_recording,
        sample_recording_path,
        save_recording,
    )
    from soleware.gait.stance import AdaptiveStanceDetector
    from soleware.gait.streaming import StreamingGaitAnalysis
    from soleware.gait.vocabulary import GRAVITY_MPS2, Gait, Side, StrikeType

_MODULE_OF = {
    "GRAVITY_MPS2": "vocabulary",
    "AdaptiveStanceDetector": "stance",
    "ContactEventDetection": "events",
    "Evaluation": "evaluation",
    "Gait": "vocabulary",
    "GaitAnalysis": "pipeline",
    "GroundTruth": "recording",
    "Recording": "recording",
    "RecordingError": "recording",
    "RunSummary": "pipeline",
    "Side": "vocabulary",
    "Stride": "pipeline",
    "StreamingGaitAnalysis": "streaming",
    "StrideIntegration": "navigation",
    "StrikeType": "vocabulary",
    "evaluate_folder": "evaluation",
    "evaluate_recording": "evaluation",
    "load_recording": "recording",
    "sample_recording_path": "recording",
    "sagittal_axis": "events",
    "save_recording": "recording",
    "strike_type": "pipeline",
}

__all__ = [
    "GRAVITY_MPS2",
    "AdaptiveStanceDetector",
    "ContactEventDetection",
    "Evaluation",
    "Gait",
    "GaitAnalysis",
    "GroundTruth",
    "Recording",
    "RecordingError",
    "RunSummary",
    "Side",
    "Stride",
    "StreamingGaitAnalysis",
    "StrideIntegration",
    "StrikeType",
    "evaluate_folder",
    "evaluate_recording",
    "load_recording",
    "sample_recording_path",
    "sagittal_axis",
    "save_recording",
    "strike_type",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"soleware.gait.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
