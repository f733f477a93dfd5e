"""The accuracy report: its figures come from the evaluations, its plots are valid SVG."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from soleware.gait.evaluation import Evaluation, speed_band
from soleware.gait.report import accuracy_report


def _ev(
    name: str,
    *,
    err_pct: float,
    speed: float,
    errors_cm: list[float],
    clip: list[float] | None,
    turn: list[float] | None = None,
) -> Evaluation:
    ref = np.full(len(errors_cm), 1.5)
    return Evaluation(
        name=name,
        activity="run" if speed > 2 else "walk",
        distance_m=100 + err_pct,
        reference_distance_m=100.0,
        distance_error_pct=err_pct,
        strides=len(errors_cm),
        reference_strides=len(errors_cm),
        step_error_pct=0.0,
        stride_length_rmse_m=float(np.sqrt(np.mean((np.array(errors_cm) / 100) ** 2))),
        stride_length_errors_m=np.array(errors_cm) / 100,
        reference_kind="strides",
        reference_stride_lengths_m=ref,
        reference_stride_speeds_mps=np.full(len(errors_cm), speed),
        speed_mps=speed,
        clip_recovered_mps=None if clip is None else np.array(clip),
        clip_turn_recovered_rad=None if turn is None else np.array(turn),
    )


def test_speed_bands() -> None:
    assert [speed_band(v) for v in (0.5, 1.99, 2.0, 3.4, 3.5, 5.9, 6.0, 9.0)] == [
        "walk",
        "walk",
        "jog",
        "jog",
        "run",
        "run",
        "sprint",
        "sprint",
    ]


def test_tables_carry_the_evaluations_figures() -> None:
    evs = [
        _ev("slow", err_pct=-0.4, speed=1.2, errors_cm=[1.0, -3.0, 2.0], clip=None),
        _ev("fast", err_pct=1.5, speed=6.5, errors_cm=[4.0, 6.0], clip=[0.0, 0.3]),
        _ev("faster", err_pct=-12.0, speed=7.0, errors_cm=[-2.0, 0.0], clip=[0.0, 0.0], turn=[0.0, 0.0]),
        _ev("fastest", err_pct=-3.0, speed=8.0, errors_cm=[1.0, 1.0], clip=[0.0, 0.2], turn=[0.1, 0.2]),
    ]
    rep = accuracy_report(evs, title="t")
    rows = {
        line.split(" | ")[0].strip("| "): line for line in rep.markdown.splitlines() if line.startswith("| ")
    }
    # sprint: three recordings, median |err| of 1.5, 3.0 and 12.0, worst 12.0; six paired strides, bias +1.67 cm
    sprint = rows["sprint"].split(" | ")
    assert sprint[2:6] == ["3", "3.0", "12.0", "6"]
    assert sprint[7] == "+1.7"
    sd = np.std([4.0, 6.0, -2.0, 0.0, 1.0, 1.0], ddof=1)
    mean = np.mean([4.0, 6.0, -2.0, 0.0, 1.0, 1.0])
    assert sprint[8].rstrip(" |") == f"{mean - 1.96 * sd:+.1f} to {mean + 1.96 * sd:+.1f}"
    assert "n/a" in rows["slow"] and "1 stride, mean 0.30 m/s" in rows["fast"] and "none" in rows["faster"]
    assert "1 stride, mean 0.20 m/s; 2 strides, mean 8.6° turn" in rows["fastest"]
    assert "faster -12 % (ours)" in rep.svgs["distance_errors"]  # off the ±8 % scale: named in the caption


def test_plots_are_well_formed_svg_and_peers_sit_beside_ours() -> None:
    evs = [_ev(f"r{k}", err_pct=k - 2.0, speed=1.0 + k, errors_cm=[k, -k, 0.5], clip=None) for k in range(5)]
    peer = [dataclasses.replace(e, distance_error_pct=-9.0) for e in evs]
    rep = accuracy_report(evs, title="t", peers={"gaitmap": peer}, peer_note="note")
    assert set(rep.svgs) == {"distance_errors", "bland_altman_ours", "bland_altman_gaitmap"}
    for svg in rep.svgs.values():
        ET.fromstring(svg)  # parses
    ba = rep.svgs["bland_altman_ours"]
    assert len(re.findall("<circle", ba)) == 15 + 3  # every paired stride, plus the legend: walk, jog, run
    assert "dist err % (gaitmap)" in rep.markdown and "<td>-9.0</td>" in rep.html
    with pytest.raises(ValueError, match="same recordings"):
        accuracy_report(evs, title="t", peers={"gaitmap": peer[:-1]})
