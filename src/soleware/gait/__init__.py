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
from soleware.gait.vocabulary import GRAVITY_MPS2, Gait, Side, StrikeType

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
