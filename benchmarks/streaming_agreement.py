"""Streaming against offline on every real recording, fed in chunks of several sizes (issue #3: within 0.5 %).

Each recording of ``../shared/datasets`` is analysed offline and streamed in chunks of 1, 7, 37, 50, 128 and 400
samples; the table gives the largest distance difference over the chunk sizes. Walking, running and mixed trials are
held to 0.5 %; the "other" trials (crawl, shuffle, turn on the spot) are listed for information. Last, how long after
its end each stride of the walk/run/mixed trials is emitted, fed in 0.1 s chunks (what a phone sees).

Usage: .venv/bin/python benchmarks/streaming_agreement.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soleware.gait import GaitAnalysis, StreamingGaitAnalysis, load_recording

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CHUNKS = (1, 7, 37, 50, 128, 400)
GAIT = ("walk", "run", "mixed")


def main() -> None:
    worst: dict[str, list[float]] = {}
    delays: list[float] = []
    print(
        f"{'recording':34s} {'activity':8s} {'offline m':>9s}  worst |stream - offline| over chunks {CHUNKS}"
    )
    for path in sorted(p for p in DATASETS.glob("*/*.csv") if not p.name.endswith(".gt.csv")):
        rec = load_recording(path)
        offline = GaitAnalysis().analyze(rec).summary_.distance_m
        diffs = []
        for chunk in CHUNKS:
            stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
            stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=chunk)
            streamed = sum(s.length_m for s in stream.strides_)
            diffs.append(abs(streamed / offline - 1) if offline else 0.0)
        worst.setdefault("gait" if rec.activity in GAIT else "other", []).append(max(diffs))
        if rec.activity in GAIT:
            delays += emission_delays_s(rec)
        print(f"{path.stem:34s} {rec.activity:8s} {offline:9.1f}  {100 * max(diffs):.3f} %")
    for group, values in worst.items():
        v = 100 * np.array(values)
        print(
            f"{group}: {len(v)} recordings, median {np.median(v):.3f} %, max {v.max():.3f} %, "
            f"within 0.5 %: {np.sum(v <= 0.5)} of {len(v)}"
        )
    d = np.array(delays)
    print(
        f"stride emitted after its end (walk/run/mixed, {len(d)} strides, 0.1 s chunks): median {np.median(d):.2f} s, "
        f"p90 {np.percentile(d, 90):.2f} s, p99 {np.percentile(d, 99):.2f} s, max {d.max():.2f} s"
    )


def emission_delays_s(rec) -> list[float]:
    """Seconds from each stride's end to the chunk that brought it out (strides left for ``finish`` excluded)."""
    chunk = max(1, round(0.1 * rec.sample_rate_hz))
    stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    out = []
    for a in range(0, len(rec), chunk):
        b = min(a + chunk, len(rec))
        out += [
            rec.t_s[b - 1] - s.t_end_s for s in stream.push(rec.t_s[a:b], rec.acc_mps2[a:b], rec.gyr_rps[a:b])
        ]
    return out


if __name__ == "__main__":
    main()
