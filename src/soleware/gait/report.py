"""The accuracy report: the engine's errors against ground truth as tables and plots a reviewer can look at.

:func:`accuracy_report` turns evaluations (``soleware.gait.evaluation``) into a self-contained HTML page (inline
SVG, no scripts, no external files) and into the pieces ``docs/accuracy.md`` is made of: Markdown tables and SVG
files. The plots are drawn by hand (SVG text), as the project has no plotting library: distance error per
recording by speed band, and a Bland–Altman plot of stride length against the reference. Another engine's
evaluations of the same recordings (gaitmap, where ``scripts/peers`` installed it) are shown beside ours.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Sequence

import numpy as np

from soleware.gait.evaluation import SPEED_BANDS, Evaluation, Skipped, speed_band

__all__ = ["AccuracyReport", "accuracy_report"]

_BANDS = [name for _, name in SPEED_BANDS] + ["unknown"]
_BAND_COLOURS = {
    "walk": "#1b9e77",
    "jog": "#7570b3",
    "run": "#d95f02",
    "sprint": "#e7298a",
    "unknown": "#888",
}
_ENGINE_COLOURS = ("#1f5fa8", "#e08a00", "#6a3d9a")


@dataclasses.dataclass(frozen=True)
class AccuracyReport:
    """The report in the forms it is published in."""

    #: a self-contained HTML page (plots inline)
    html: str
    #: Markdown: the per-band and per-recording tables, with the plots referenced as ``<name>.svg``
    markdown: str
    #: SVG documents by file stem
    svgs: dict[str, str]


def _band(ev: Evaluation) -> str:
    return speed_band(ev.speed_mps) if ev.speed_mps is not None else "unknown"


def _fmt(x: float | None, spec: str) -> str:
    return "–" if x is None or not math.isfinite(x) else format(x, spec)


def _strides(n: int) -> str:
    return f"{n} stride{'s' if n != 1 else ''}"


def _clipping(ev: Evaluation) -> str:
    if ev.clip_recovered_mps is None:
        return "n/a"
    parts = []
    rec = ev.clip_recovered_mps[ev.clip_recovered_mps > 0]
    if len(rec):
        parts.append(f"{_strides(len(rec))}, mean {rec.mean():.2f} m/s")
    if ev.clip_turn_recovered_rad is not None:
        turn = ev.clip_turn_recovered_rad[ev.clip_turn_recovered_rad > 0]
        if len(turn):
            parts.append(f"{_strides(len(turn))}, mean {np.degrees(turn.mean()):.1f}° turn")
    return "; ".join(parts) or "none"


def _group_rows(engines: dict[str, list[Evaluation]], key: Callable[[Evaluation], str]) -> list[list[str]]:
    """One row per group (speed band, activity) and engine: distance errors and the paired strides' errors.

    A recording's group is the one our evaluation puts it in, for every engine alike.
    """
    keys = [key(e) for e in next(iter(engines.values()))]
    rows = []
    for group in sorted(set(keys), key=_group_order):
        for engine, evs in engines.items():
            sel = [e for e, k in zip(evs, keys, strict=True) if k == group]
            d = np.array([abs(e.distance_error_pct) for e in sel if e.distance_error_pct is not None])
            err = np.concatenate([e.stride_length_errors_m for e in sel])
            ref = np.concatenate([e.reference_stride_lengths_m for e in sel])
            bias = 100 * float(err.mean()) if len(err) else None
            loa = 196 * float(err.std(ddof=1)) if len(err) > 1 else None
            rows.append(
                [
                    group,
                    engine,
                    str(len(sel)),
                    _fmt(float(np.median(d)) if len(d) else None, ".1f"),
                    _fmt(float(d.max()) if len(d) else None, ".1f"),
                    str(len(err)),
                    _fmt(100 * float(err.sum() / ref.sum()) if len(ref) else None, "+.2f"),
                    _fmt(bias, "+.1f"),
                    "–" if bias is None or loa is None else f"{bias - loa:+.1f} to {bias + loa:+.1f}",
                ]
            )
    return rows


def _group_order(name: str) -> tuple[int, str]:
    order = [*_BANDS, "walk", "run", "mixed", "stairs", "other"]
    return (order.index(name) if name in order else len(order), name)


_GROUP_HEAD = [
    "group",
    "engine",
    "recordings",
    "median abs. dist err %",
    "worst abs. dist err %",
    "paired strides",
    "stride sum err %",
    "stride bias cm",
    "95% limits cm",
]


def _recording_rows(engines: dict[str, list[Evaluation]]) -> list[list[str]]:
    names = list(engines)
    first = engines[names[0]]
    rows = []
    for k, ev in enumerate(first):
        others = [_fmt(engines[n][k].distance_error_pct, "+.1f") for n in names[1:]]
        rows.append(
            [
                ev.name,
                ev.activity,
                _band(ev),
                _fmt(ev.speed_mps, ".2f"),
                ev.reference_kind or "–",
                _fmt(ev.reference_distance_m, ".1f"),
                _fmt(ev.distance_error_pct, "+.1f"),
                *others,
                f"{ev.strides} / {ev.reference_strides if ev.reference_strides is not None else '–'}",
                _fmt(None if ev.stride_length_rmse_m is None else 100 * ev.stride_length_rmse_m, ".1f"),
                _clipping(ev),
            ]
        )
    return rows


def _recording_head(engines: dict[str, list[Evaluation]]) -> list[str]:
    names = list(engines)
    return [
        "recording",
        "activity",
        "band",
        "speed m/s",
        "reference",
        "ref m",
        f"dist err % ({names[0]})",
        *[f"dist err % ({n})" for n in names[1:]],
        "strides / ref",
        "stride RMSE cm",
        "clipping recovered",
    ]


def _markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# ----------------------------------------------------------------------------------------------------------------
# plots


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (m * step) <= n:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


class _Axes:
    """A plot area in SVG user units with linear x and y scales, gridlines and labels."""

    def __init__(self, *, width: int, height: int, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.w, self.h = width, height
        self.left, self.right, self.top, self.bottom = 64, 16, 28, 46
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        self.parts: list[str] = []

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.w - self.left - self.right)

    def py(self, y: float) -> float:
        return self.h - self.bottom - (y - self.y0) / (self.y1 - self.y0) * (self.h - self.top - self.bottom)

    def frame(self, *, title: str, xlabel: str, ylabel: str, xticks: bool = True) -> None:
        p = self.parts
        p.append(
            f'<text x="{self.w / 2}" y="18" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>'
        )
        for t in _ticks(self.y0, self.y1):
            y = self.py(t)
            p.append(
                f'<line x1="{self.left}" x2="{self.w - self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            )
            p.append(f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
        if xticks:
            for t in _ticks(self.x0, self.x1):
                x = self.px(t)
                p.append(
                    f'<text x="{x:.1f}" y="{self.h - self.bottom + 16}" text-anchor="middle">{t:g}</text>'
                )
        p.append(
            f'<rect x="{self.left}" y="{self.top}" width="{self.w - self.left - self.right}" '
            f'height="{self.h - self.top - self.bottom}" fill="none" stroke="#444"/>'
        )
        p.append(
            f'<text x="{self.w / 2}" y="{self.h - self.bottom + 32}" text-anchor="middle">{html.escape(xlabel)}</text>'
        )
        p.append(
            f'<text transform="translate(16 {self.h / 2}) rotate(-90)" text-anchor="middle">{html.escape(ylabel)}</text>'
        )

    def svg(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
            f'viewBox="0 0 {self.w} {self.h}" font-family="sans-serif" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(self.parts)}</svg>\n'
        )


def _error_plot(engines: dict[str, list[Evaluation]], *, limit_pct: float = 8.0) -> str:
    """Signed distance error of each recording, one column per speed band, one colour per engine."""
    keys = [_band(e) for e in next(iter(engines.values()))]
    bands = [b for b in _BANDS if b in keys]
    off = [
        f"{e.name} {e.distance_error_pct:+.0f} % ({name})"
        for name, evs in engines.items()
        for e in evs
        if e.distance_error_pct is not None and abs(e.distance_error_pct) > limit_pct
    ]
    caption_lines = (len(off) + 1) // 2
    ax = _Axes(width=720, height=400 + 16 * caption_lines, x=(0, len(bands)), y=(-limit_pct, limit_pct))
    ax.bottom += 16 * caption_lines + (12 if off else 0)
    ax.frame(
        title="Distance error per recording",
        xlabel="speed band (median reference speed)",
        ylabel="distance error %",
        xticks=False,
    )
    p = ax.parts
    p.append(
        f'<line x1="{ax.px(0)}" x2="{ax.px(len(bands))}" y1="{ax.py(0)}" y2="{ax.py(0)}" stroke="#444"/>'
    )
    rng = np.random.default_rng(0)
    n_eng = len(engines)
    for i, band in enumerate(bands):
        p.append(
            f'<text x="{ax.px(i + 0.5):.1f}" y="{ax.h - ax.bottom + 16}" text-anchor="middle">{band}</text>'
        )
        for k, evs in enumerate(engines.values()):
            centre = i + (k + 1) / (n_eng + 1)
            errs = [
                e.distance_error_pct
                for e, k in zip(evs, keys, strict=True)
                if k == band and e.distance_error_pct is not None
            ]
            colour = _ENGINE_COLOURS[k % len(_ENGINE_COLOURS)]
            for err in errs:
                x = ax.px(centre + rng.uniform(-0.12, 0.12) / n_eng)
                if abs(err) > limit_pct:  # off the scale: a triangle on the edge, the value in the caption
                    y = ax.py(math.copysign(limit_pct, err))
                    tip = 6 if err > 0 else -6
                    p.append(
                        f'<path d="M{x - 4:.1f} {y:.1f} L{x + 4:.1f} {y:.1f} L{x:.1f} {y - tip:.1f} Z" '
                        f'fill="{colour}"/>'
                    )
                else:
                    p.append(
                        f'<circle cx="{x:.1f}" cy="{ax.py(err):.1f}" r="3" fill="{colour}" fill-opacity="0.7"/>'
                    )
            if errs:
                med = float(np.median(errs))
                if abs(med) <= limit_pct:
                    xa, xb = ax.px(centre - 0.3 / n_eng), ax.px(centre + 0.3 / n_eng)
                    p.append(
                        f'<line x1="{xa:.1f}" x2="{xb:.1f}" y1="{ax.py(med):.1f}" y2="{ax.py(med):.1f}" '
                        f'stroke="{colour}" stroke-width="2"/>'
                    )
    for k in range(0, len(off), 2):
        y = ax.h - ax.bottom + 54 + 16 * (k // 2)
        line = "off the scale: " if k == 0 else ""
        p.append(
            f'<text x="{ax.left}" y="{y}" font-size="11">{html.escape(line + ";  ".join(off[k : k + 2]))}</text>'
        )
    for k, engine in enumerate(engines):
        colour = _ENGINE_COLOURS[k % len(_ENGINE_COLOURS)]
        x = ax.left + 10 + 150 * k
        p.append(f'<circle cx="{x}" cy="{ax.top + 12}" r="4" fill="{colour}"/>')
        p.append(f'<text x="{x + 8}" y="{ax.top + 16}">{html.escape(engine)} (bar: median)</text>')
    return ax.svg()


def _bland_altman(engine: str, evs: Sequence[Evaluation]) -> str:
    """Stride length: difference (ours − reference) against the mean of the two, coloured by speed band."""
    ours = np.concatenate([e.reference_stride_lengths_m + e.stride_length_errors_m for e in evs])
    ref = np.concatenate([e.reference_stride_lengths_m for e in evs])
    band = np.concatenate([[speed_band(v) for v in e.reference_stride_speeds_mps] for e in evs] or [[]])
    if not len(ref):
        ax = _Axes(width=720, height=380, x=(0, 1), y=(-1, 1))
        ax.frame(title=f"Bland–Altman: stride length ({engine})", xlabel="", ylabel="", xticks=False)
        ax.parts.append('<text x="360" y="190" text-anchor="middle">no paired reference strides</text>')
        return ax.svg()
    mean = (ours + ref) / 2
    diff_cm = 100 * (ours - ref)
    bias, sd = float(diff_cm.mean()), float(diff_cm.std(ddof=1)) if len(diff_cm) > 1 else 0.0
    lim = max(5.0, float(np.percentile(np.abs(diff_cm), 99.5)) * 1.1, abs(bias) + 2.2 * sd)
    ax = _Axes(width=720, height=380, x=(0.0, float(mean.max()) * 1.05), y=(-lim, lim))
    ax.frame(
        title=f"Bland–Altman: stride length, {engine} against the reference ({len(ref)} strides)",
        xlabel="mean of the two stride lengths (m)",
        ylabel=f"{engine} − reference (cm)",
    )
    p = ax.parts
    for name in _BANDS:
        sel = band == name
        for m, d in zip(mean[sel], np.clip(diff_cm[sel], -lim, lim), strict=True):
            p.append(
                f'<circle cx="{ax.px(m):.1f}" cy="{ax.py(d):.1f}" r="2" fill="{_BAND_COLOURS[name]}" '
                f'fill-opacity="0.55"/>'
            )
    for value, label, dash in (
        (bias, f"bias {bias:+.1f} cm", ""),
        (bias + 1.96 * sd, f"+1.96 SD {bias + 1.96 * sd:+.1f} cm", ' stroke-dasharray="6 4"'),
        (bias - 1.96 * sd, f"−1.96 SD {bias - 1.96 * sd:+.1f} cm", ' stroke-dasharray="6 4"'),
    ):
        y = ax.py(value)
        p.append(
            f'<line x1="{ax.left}" x2="{ax.w - ax.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#222"{dash}/>'
        )
        p.append(f'<text x="{ax.w - ax.right - 4}" y="{y - 4:.1f}" text-anchor="end">{label}</text>')
    present = [b for b in _BANDS if np.any(band == b)]
    for k, name in enumerate(present):
        x = ax.left + 10 + 80 * k
        p.append(f'<circle cx="{x}" cy="{ax.top + 12}" r="4" fill="{_BAND_COLOURS[name]}"/>')
        p.append(f'<text x="{x + 8}" y="{ax.top + 16}">{name}</text>')
    return ax.svg()


# ----------------------------------------------------------------------------------------------------------------


_CSS = (
    "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
    "figure{margin:1em 0}.note{color:#555;font-size:13px}"
)


def accuracy_report(
    ours: list[Evaluation],
    *,
    title: str,
    peers: dict[str, list[Evaluation]] | None = None,
    peer_note: str = "",
    skipped: Sequence[Skipped] = (),
) -> AccuracyReport:
    """The report of ``ours``; ``peers`` maps another engine's name to its evaluations of the same recordings.

    ``peer_note`` says, in the page, why a peer is missing (e.g. gaitmap not installed); ``skipped`` lists the
    files of the folder that are not scored, and why.
    """
    engines = {"ours": ours, **(peers or {})}
    for name, evs in engines.items():
        if [e.name for e in evs] != [e.name for e in ours]:
            raise ValueError(f"{name}'s evaluations are not of the same recordings as ours")
    svgs = {"distance_errors": _error_plot(engines)}
    for name, evs in engines.items():
        svgs[f"bland_altman_{name}"] = _bland_altman(name, evs)
    band_rows = _group_rows(engines, _band)
    activity_rows = _group_rows(engines, lambda e: e.activity)
    rec_head, rec_rows = _recording_head(engines), _recording_rows(engines)
    legend = (
        "Speed bands by the median reference stride speed (the engine's own where the reference has no strides): "
        + ", ".join(f"{name} < {top:g} m/s" for top, name in SPEED_BANDS[:-1])
        + f", {SPEED_BANDS[-1][1]} above. Distance error over the referenced span (see `soleware eval`); stride "
        "errors over the reference strides paired with one of ours. Clipping recovered: strides whose clipped "
        "accelerometer samples the engine gave velocity back to, and those whose clipped gyroscope it gave turn "
        "back to (n/a: the engine does not report it)."
    )
    markdown = "\n\n".join(
        [
            "### By speed band",
            _markdown_table(["speed band", *_GROUP_HEAD[1:]], band_rows),
            "### By activity (the recording's label)",
            _markdown_table(["activity", *_GROUP_HEAD[1:]], activity_rows),
            "![Distance error per recording](distance_errors.svg)",
            *[f"![Bland–Altman, {name}](bland_altman_{name}.svg)" for name in engines],
            legend + (f" {peer_note}" if peer_note else ""),
            "### Per recording",
            _markdown_table(rec_head, rec_rows),
        ]
    )
    figures = "".join(f"<figure>{svg}</figure>" for svg in svgs.values())
    skipped_rows = [[str(k.path), "unreadable" if k.unreadable else "not scored", k.reason] for k in skipped]
    if skipped_rows:
        markdown += "\n\n### Not scored\n\n" + _markdown_table(["file", "", "why"], skipped_rows)
    not_scored = (
        f"<h2>Not scored</h2>{_html_table(['file', '', 'why'], skipped_rows)}" if skipped_rows else ""
    )
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="note">{html.escape(legend)}{" " + html.escape(peer_note) if peer_note else ""}</p>'
        f"<h2>By speed band</h2>{_html_table(['speed band', *_GROUP_HEAD[1:]], band_rows)}"
        f"<h2>By activity</h2>{_html_table(['activity', *_GROUP_HEAD[1:]], activity_rows)}{figures}"
        f"<h2>Per recording</h2>{_html_table(rec_head, rec_rows)}{not_scored}</body></html>\n"
    )
    return AccuracyReport(html=page, markdown=markdown, svgs=svgs)
