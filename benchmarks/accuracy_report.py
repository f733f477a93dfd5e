"""Regenerate docs/accuracy.md and its plots: our engine (and gaitmap, where scripts/peers installed it) against the
ground truth of every recording in ../shared/datasets.

The tables and SVG plots come from ``soleware.gait.report.accuracy_report``, the page ``soleware eval DIR
--report OUT`` writes; gaitmap's strides are scored by the same rules (``compare_strides``), as in
``gaitmap_compare.py``. Below them, what ``robustness.py`` measures outside the lab: the same recordings clipped,
decimated and offset as a cheap chip would record them, and the simulator's matrix of chips, placements, rates and
mountings. Everything between the markers in docs/accuracy.md is replaced; the text above them stays.

Usage: .venv/bin/python benchmarks/accuracy_report.py [--datasets DIR] [--jobs N] [--no-gaitmap] [--no-robustness]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import soleware
from soleware.gait.evaluation import Evaluation, compare_strides, evaluate_folder, recordings_with_truth
from soleware.gait.report import accuracy_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gaitmap_compare import PEER_PYTHON, run_gaitmap
from robustness import real_part, sim_part

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "accuracy.md"
PLOTS = ROOT / "docs" / "accuracy"
BEGIN, END = "<!-- generated: begin -->", "<!-- generated: end -->"


def gaitmap_evaluations(datasets: Path) -> tuple[list[Evaluation], str]:
    """gaitmap's pipeline on the recordings ``evaluate_folder`` scores, in the same order; and its version."""
    recs = list(recordings_with_truth(datasets))
    with tempfile.TemporaryDirectory() as tmp:
        results, _, _ = run_gaitmap(recs, Path(tmp))
    version = subprocess.run(
        [str(PEER_PYTHON), "-c", "import importlib.metadata as m; print(m.version('gaitmap'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    evs = []
    for rec, r in zip(recs, results, strict=True):
        strides = r["strides"] if r["ok"] else []
        evs.append(
            compare_strides(
                rec,
                np.array([s[1] for s in strides]),
                np.array([s[2] for s in strides]),
                footfalls_xy_m=np.array(r["footfalls_xy"]) if r.get("footfalls_xy") else None,
            )
        )
    return evs, version


def robustness_markdown(datasets: Path) -> str:
    """``robustness.py``'s real and simulated parts as the page shows them: its tables, verbatim."""
    real, sim = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(real):
        real_part(datasets)
    with contextlib.redirect_stdout(sim):
        sim_part()
    cases, _, summary = sim.getvalue().partition("\n\n")
    table = real.getvalue().replace(str(datasets), os.path.relpath(datasets, ROOT))
    return "\n\n".join(
        [
            "### Outside the lab (`benchmarks/robustness.py`)",
            "The walk, run and mixed recordings above as a cheap sole chip would have recorded them: the "
            "accelerometer clipped at ±8 g, the gyroscope at ±500 °/s, decimated to 100 and 50 Hz (each sample "
            "the mean over its period), a 20 mg accelerometer offset. Δ is the change against the recording as "
            "made; strides lost, those the degraded recording no longer finds.",
            f"```text\n{table.rstrip()}\n```",
            "The simulated sole (`soleware.shoe.sim`) over speeds of 1-8 m/s, forward, backward, sideways and "
            "turning, on ±4/±8/±16 g chips (and one that never clips), at sole, heel, instep and toe, 50-1000 Hz, "
            "mounting tilts up to 20°: error of our distance against the simulator's.",
            f"```text\n{summary.rstrip()}\n```",
            f"<details><summary>Every simulated case</summary>\n\n```text\n{cases.rstrip()}\n```\n\n</details>",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--jobs", type=int, default=None, help="processes for our engine (default: one per core)")
    ap.add_argument("--no-gaitmap", action="store_true", help="leave gaitmap out even where it is installed")
    ap.add_argument(
        "--no-robustness", action="store_true", help="leave out the clipped, decimated and simulated runs"
    )
    args = ap.parse_args()
    ours = evaluate_folder(args.datasets, jobs=args.jobs)
    peers, note = {}, ""
    if args.no_gaitmap:
        note = "gaitmap left out (--no-gaitmap)."
    elif not PEER_PYTHON.exists():
        note = "gaitmap is not in these tables: scripts/peers had not installed it when they were made."
    else:
        peers["gaitmap"], version = gaitmap_evaluations(args.datasets)
        note = f"gaitmap {version}: its standard pipeline (see benchmarks/_peer_gaitmap.py)."
    rep = accuracy_report(
        ours, title="Soleware gait engine against ground truth", peers=peers, peer_note=note
    )
    PLOTS.mkdir(parents=True, exist_ok=True)
    for old in PLOTS.glob("*.svg"):
        old.unlink()
    for name, svg in rep.svgs.items():
        (PLOTS / f"{name}.svg").write_text(svg, encoding="utf-8")
    body = rep.markdown.replace("](", "](accuracy/")
    if not args.no_robustness:
        body += "\n\n" + robustness_markdown(args.datasets)
    stamp = (
        f"Generated {dt.date.today().isoformat()} by `benchmarks/accuracy_report.py`, soleware "
        f"{soleware.__version__}, {len(ours)} recordings of `{args.datasets.name}`."
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Accuracy\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{stamp}\n\n{body}\n{END}{tail}", encoding="utf-8")
    print(f"{DOC.relative_to(ROOT)}: {len(ours)} recordings; plots in {PLOTS.relative_to(ROOT)}/ ({note})")


if __name__ == "__main__":
    main()
