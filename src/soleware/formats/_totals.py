"""Lap totals for export that add up to the stored run: what is exported is what is stored.

A run imported from another app keeps that app's totals (a lap's DistanceMeters, the watch's timer), which may
differ from what its streams and pauses give (trackpoints spanning 2253 m under a 2200 m lap; 21 s of pauses
detected in a treadmill run whose watch timer never stopped). Lap distances and timer times for FIT and TCX
are therefore the stream's shares of the stored totals, never recomputed totals of their own.
"""

from __future__ import annotations

import numpy as np

from soleware.runs.model import Run

__all__ = ["lap_totals"]


def _paused_s(a: float, b: float, pauses: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, pb) - max(a, pa)) for pa, pb in pauses)


def lap_totals(run: Run, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(distance_m, timer_s) of each (start, end) span in seconds from the start, such that spans partitioning
    [0, elapsed] add up to the run's stored distance_m and moving_time_s.

    Each span gets the share of the stored distance that the distance stream covers in it, and the share of the
    stored moving time that its time outside pauses has; by time when the stream or pauses give no shares.
    """
    s = run.streams
    end = run.elapsed_time_s
    pauses = [(a, b) for a, b in run.pauses if b > a]

    def stream_distance(a: float, b: float) -> float:
        return float(np.interp(b, s.t_s, s.distance_m) - np.interp(a, s.t_s, s.distance_m))

    whole_d = stream_distance(0.0, end)
    whole_t = end - _paused_s(0.0, end, pauses)
    out = []
    for a, b in spans:
        by_time = (b - a) / end if end > 0 else 0.0
        d = run.distance_m * (stream_distance(a, b) / whole_d if whole_d > 0 else by_time)
        t = run.moving_time_s * ((b - a - _paused_s(a, b, pauses)) / whole_t if whole_t > 0 else by_time)
        out.append((d, t))
    return out
