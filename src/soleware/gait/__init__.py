"""The gait engine: IMU samples of one foot to strides, distance and running form. Depends on numpy/scipy only."""

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

__all__ = [
    "AdaptiveStanceDetector",
    "ContactEventDetection",
    "Evaluation",
    "GaitAnalysis",
    "GroundTruth",
    "Recording",
    "RecordingError",
    "RunSummary",
    "Stride",
    "StreamingGaitAnalysis",
    "StrideIntegration",
    "evaluate_folder",
    "evaluate_recording",
    "load_recording",
    "sample_recording_path",
    "sagittal_axis",
    "save_recording",
    "strike_type",
]
