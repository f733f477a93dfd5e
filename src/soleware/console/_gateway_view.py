"""The gateway's live terminal view: big numbers for the runner, one column per foot for the details.

A value that is not known, or not true for this stride, is shown as "–" (flight time only for running strides
with a flight phase: walking has none; no strike angle where the strike is unknown: the shoe sends 0° for an
angle it did not measure, as for a stride estimated across a gap in its samples). A third-party pod gets the big numbers and one column about the sensor:
it has no per-foot form."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from soleware.link.gateway import Gateway, PodState, contact_s, has_flight

__all__ = ["render"]

_LINK_STYLE = {
    "connected": "green",
    "syncing": "cyan",
    "connecting": "yellow",
    "reconnecting": "red",
    "searching": "dim",
}


def _pace(speed_mps: float) -> str:
    if speed_mps < 0.3:
        return "--:--"
    m, s = divmod(round(1000.0 / speed_mps), 60)
    return f"{m}:{s:02d}"


def _clock(t_s: float) -> str:
    h, rest = divmod(int(t_s), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _lap(gateway: Gateway, lap_key: bool) -> list[RenderableType]:
    """The lap being run since the last press, and the key that presses (where the terminal gives keys)."""
    lap = gateway.current_lap()
    hint = "press L for a lap" if lap_key else ""
    if lap is None:
        return [Text(hint, style="dim")] if hint else []
    n, since_s = lap
    return [
        Text.assemble((f"lap {n}", "bold"), f" · {_clock(since_s)}", (f"   {hint}" if hint else "", "dim"))
    ]


def render(gateway: Gateway, *, lap_key: bool = False) -> Group:
    """The view of ``gateway`` now; ``lap_key``: the L key marks a lap (the terminal gives keys)."""
    live = gateway.live_update()
    top = Table.grid(expand=True, padding=(0, 2))
    for _ in range(4):
        top.add_column(justify="center")
    if live is None:
        top.add_row(
            Text("waiting for the pod…" if gateway.pod is not None else "waiting for the shoes…", style="dim")
        )
    else:
        top.add_row(
            Text(_pace(live["speed_mps"]), style="bold"),
            Text(f"{live['distance_m'] / 1000:.2f}", style="bold"),
            Text(_clock(live["t_s"]), style="bold"),
            Text(f"{live['cadence_spm']:.0f}", style="bold"),
        )
        top.add_row("pace /km", "km", "time", "steps/min")
    if gateway.pod is not None:
        return Group(
            Panel(top, title="Soleware — live"),
            *_lap(gateway, lap_key),
            *_pod_rows(gateway.pod_state),
            *_outcomes(gateway),
        )
    feet = Table(expand=True)
    feet.add_column("")
    sides = [s for s in ("left", "right") if s in gateway.feet]
    for side in sides:
        feet.add_column(side, justify="right")

    def row(label: str, values: list[str]) -> None:
        feet.add_row(label, *values)

    fs = [gateway.feet[s] for s in sides]
    row("link", [f"[{_LINK_STYLE.get(f.link, 'white')}]{f.link}[/]" for f in fs])
    row("shoe", [f.serial for f in fs])
    row("battery", [f"{f.battery_pct}%" if f.battery_pct is not None else "–" for f in fs])
    contacts = [contact_s(f.last_stride) for f in fs]
    row("contact", [f"{1000 * c:.0f} ms" if c is not None else "–" for c in contacts])
    row(
        "flight",
        [f"{1000 * f.last_stride.flight_time_s:.0f} ms" if has_flight(f.last_stride) else "–" for f in fs],
    )
    row(
        "strike",
        [
            f"{f.last_stride.strike_type} {f.last_stride.strike_angle_deg:+.0f}°"
            if f.last_stride and f.last_stride.strike_type
            else "–"
            for f in fs
        ],
    )
    row("strides", [str(f.strides_seen) for f in fs])
    row(
        "synced",
        [str(gateway.stores[f.serial].received) if f.serial in gateway.stores else "0" for f in fs],
    )
    return Group(Panel(top, title="Soleware — live"), *_lap(gateway, lap_key), feet, *_outcomes(gateway))


def _pod_rows(pod: PodState | None) -> list[RenderableType]:
    """The pod's column: what it is, its link and what it sends (no per-foot form: a pod has none)."""
    table = Table(expand=True)
    table.add_column("")
    table.add_column("pod", justify="right")
    if pod is None:
        table.add_row("link", f"[{_LINK_STYLE['searching']}]searching[/]")
        return [table]
    m = pod.rsc
    table.add_row("link", f"[{_LINK_STYLE.get(pod.link, 'white')}]{pod.link}[/]")
    label = pod.label
    table.add_row("sensor", pod.name)
    extra = " ".join(x for x in (label.manufacturer, label.model) if x) if label is not None else ""
    table.add_row("made by", extra or "–")
    table.add_row("serial", (label.serial or "–") if label is not None else "–")
    table.add_row("battery", f"{pod.battery_pct}%" if pod.battery_pct is not None else "–")
    table.add_row(
        "stride", f"{m.stride_length_m:.2f} m" if m is not None and m.stride_length_m is not None else "–"
    )
    table.add_row("notifications", f"{len(pod.recorder)} ({pod.recorder.skipped} skipped)")
    return [table]


def _outcomes(gateway: Gateway) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for u in gateway.uploads[-3:]:
        verb = "uploaded" if u.get("created") else "already on the server"
        parts.append(
            Text(
                f"run {u['run_id'][:8]} {verb}; {len(u.get('records', []))} records, {len(u.get('awards', []))} awards"
            )
        )
    for why in gateway.rejections[-3:]:
        parts.append(Text(f"run refused by the server (kept by the gateway): {why[:160]}", style="bold red"))
    return parts
