"""The demo's orchestration: run service, virtual radio and shoes as processes, the gateway in this one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from soleware.demo._processes import Demo, wait_http, wait_radio
from soleware.runs.efforts import distance_key

if TYPE_CHECKING:
    from soleware.gait.recording import Recording

__all__ = ["DEFAULT_PLAN", "main", "round_settled", "run_demo", "unsynced"]

DEFAULT_PLAN = "2min walk, 1km@6:00/km, 1km@5:45/km, 1km@5:30/km, 1km@5:15/km, 1km@5:00/km, 2min walk"
DEMO_EMAIL = "demo@soleware.example"
DEMO_ZONE = "Asia/Shanghai"
#: How long past a run's simulated end (s of wall time) the demo waits for both shoes' runs to be stored.
ROUND_GRACE_S = 120.0


def _pace(s_per_km: float | None) -> str:
    if not s_per_km:
        return "–"
    m, s = divmod(round(s_per_km), 60)
    return f"{m}:{s:02d} /km"


async def run_demo(
    *,
    plan: str,
    speedup: float,
    runs: int,
    browser: bool,
    keep: bool,
    port: int,
    workdir: Path,
    seed: int,
    password: str = "",
    console: Console,
    view: bool,
    report: Path | None,
    remove_workdir: bool = False,
) -> dict[str, Any]:
    from soleware.console import render
    from soleware.link.central import BumbleCentral
    from soleware.link.gateway import Gateway, ServerClient
    from soleware.shoe.sim import simulate

    t_begin = time.monotonic()
    demo = Demo(workdir=workdir)
    url = f"http://127.0.0.1:{port}"
    password = password or "demo-" + secrets.token_hex(4)
    env = {"SOLEWARE_DATABASE_URL": f"sqlite:///{workdir / 'soleware.db'}", "SOLEWARE_PASSWORD": password}
    result: dict[str, Any] = {"url": url, "email": DEMO_EMAIL, "password": password, "runs": []}
    gw: Gateway | None = None
    gw_task: asyncio.Task | None = None
    central = None
    client = None
    # The gateway runs in this process: its log (reconnects, uploads, refusals) goes beside the other processes' logs.
    gateway_log = logging.FileHandler(workdir / "gateway.log")
    gateway_log.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    link_logger = logging.getLogger("soleware.link")
    link_logger.addHandler(gateway_log)
    link_logger.setLevel(logging.INFO)
    try:
        user = await demo.spawn(
            "user", "user", "create", DEMO_EMAIL, "--name", "Demo Runner", "--time-zone", DEMO_ZONE, env=env
        )
        if await user.process.wait() != 0:
            raise RuntimeError(f"could not create the demo runner: {user.log.read_text()[-500:]}")
        await demo.spawn("server", "serve", "--port", str(port), env=env)
        radio = await demo.spawn("radio", "radio", "0", "0", "0")
        await wait_http(url)
        transports = await wait_radio(radio.log, 3)
        console.print(f"[bold]Run service[/bold] {url}  (sign in as {DEMO_EMAIL} / {password})")
        console.print(f"[bold]Live page[/bold]   {url}/")
        if browser:
            with contextlib.suppress(Exception):
                webbrowser.open(f"{url}/signin?email={DEMO_EMAIL}")

        client = ServerClient(url, email=DEMO_EMAIL, password=password)
        central = await BumbleCentral(transports[2], keys_path=workdir / "gateway" / "keys.json").open()
        gw = Gateway(
            central,
            state_dir=workdir / "gateway",
            server=client,
            shoes=2,
            time_zone=DEMO_ZONE,
            single_foot_after_s=20,
        )
        gw_task = asyncio.create_task(gw.run())
        now = dt.datetime.now(dt.UTC)
        for k in range(runs):
            rejected_before = len(gw.rejections)
            # runs spread over the past weeks (every 2–3 days, mornings), the last one now
            days_ago = (runs - 1 - k) * 2.5
            start = now - dt.timedelta(days=days_ago) if k < runs - 1 else now
            run_seed = seed + k
            truth = simulate(plan, seed=run_seed)
            shoes = []
            for i, side in enumerate(("left", "right")):
                shoes.append(
                    await demo.spawn(
                        f"shoe-{side}-{k + 1}",
                        "shoe",
                        "serve",
                        "--side",
                        side,
                        "--transport",
                        transports[i],
                        "--plan",
                        plan,
                        "--seed",
                        str(run_seed),
                        "--speedup",
                        str(speedup),
                        "--log",
                        str(workdir / f"{side}.img"),
                        "--start",
                        start.isoformat(),
                        "--stats",
                        str(workdir / f"shoe-{side}-{k + 1}.json"),
                    )
                )
            t0 = time.monotonic()
            uploads_before = len(gw.uploads)
            stats = [workdir / f"shoe-{side}-{k + 1}.json" for side in ("left", "right")]
            deadline = t0 + truth["left"].duration_s / speedup + ROUND_GRACE_S
            with (
                Live(render(gw), console=console, refresh_per_second=4, transient=False)
                if view
                else contextlib.nullcontext()
            ) as live:
                while not round_settled(gw, stats):
                    if gw_task.done():
                        await gw_task
                    if time.monotonic() > deadline:
                        missing = ", ".join(unsynced(gw, stats))
                        raise RuntimeError(
                            f"run {k + 1}: after {time.monotonic() - t0:.0f} s the gateway still lacks {missing} "
                            "(kept on the shoe; see the shoe logs in the work folder)"
                        )
                    if live is not None:
                        live.update(render(gw))
                    await asyncio.sleep(0.25)
                if live is not None:
                    live.update(render(gw))
            for proc in shoes:
                await demo.stop(proc)
            if len(gw.rejections) > rejected_before:
                console.print(
                    f"[bold red]Run {k + 1} was rejected by the run service:[/] {gw.rejections[-1]}"
                )
                result["runs"].append({"rejected": gw.rejections[-1]})
                continue
            # One foot may be stored alone first (the other late), the other merged into it later.
            answers = gw.uploads[uploads_before:]
            if not answers:
                raise RuntimeError(f"run {k + 1}: the shoes recorded no run (a plan too short to start one?)")
            answer = {
                "run_id": answers[0]["run_id"],
                "records": [r for a in answers for r in a["records"]],
                "awards": [award for a in answers for award in a["awards"]],
            }
            detail = (await client._request("GET", f"/api/runs/{answer['run_id']}")).json()
            truth_m = truth["left"].ground_truth.distance_m
            assert truth_m is not None  # the simulator knows the distance it laid out
            true_m = float(truth_m)
            result["runs"].append(
                {
                    "run_id": answer["run_id"],
                    "wall_s": time.monotonic() - t0,
                    "distance_m": detail["distance_m"],
                    "true_distance_m": true_m,
                    "error_pct": 100.0 * (detail["distance_m"] / true_m - 1.0),
                    "strides": {f["side"]: f["strides"] for f in detail["feet"]},
                    "true_strides": {s: true_strides(r) for s, r in truth.items()},
                    "shoe_strides": {
                        side: json.loads((workdir / f"shoe-{side}-{k + 1}.json").read_text())["strides_sent"]
                        for side in ("left", "right")
                    },
                    "moving_time_s": detail["moving_time_s"],
                    "avg_cadence_spm": detail["avg_cadence_spm"],
                    "records": answer["records"],
                    "awards": answer["awards"],
                }
            )
            print_run(console, k + 1, runs, detail, result["runs"][-1])
        records = (await client._request("GET", "/api/records")).json()
        achievements = (await client._request("GET", "/api/achievements")).json()
        result["records"] = records
        result["earned"] = [a["id"] for a in achievements if a["earned"]]
        print_totals(console, records, achievements)
        gw.stop()
        await gw_task
        result["wall_s"] = time.monotonic() - t_begin
        if keep:
            console.print(f"\n[bold]Still serving[/bold] at {url}/ — Ctrl-C to stop.")
            await asyncio.get_running_loop().create_future()
    finally:
        if gw is not None:
            gw.stop()
        if gw_task is not None and not gw_task.done():
            # Let the gateway leave its Bluetooth work while the radio still answers (Ctrl-C mid-scan).
            gw_task.cancel()
            await asyncio.wait({gw_task}, timeout=5.0)
        if central is not None:
            await central.close()
        if client is not None:
            await client.close()
        await demo.stop_all()
        result["cpu_s"] = {p.name: round(p.cpu_s, 2) for p in demo.procs} | {
            "gateway (demo process)": round(time.process_time(), 2)
        }
        if report is not None:
            report.write_text(json.dumps(result, indent=2, default=str))
        link_logger.removeHandler(gateway_log)
        gateway_log.close()
        me = asyncio.current_task()
        if me is not None and me.cancelling():
            _drop_leftover_tasks(me, workdir, console, remove_workdir=remove_workdir)
    return result


def true_strides(rec: Recording) -> int:
    """Strides the simulator laid out for one foot."""
    assert rec.ground_truth.strides is not None  # the simulator always lists its strides
    return len(rec.ground_truth.strides)


def _drop_leftover_tasks(me: asyncio.Task, workdir: Path, console: Console, *, remove_workdir: bool) -> None:
    """After Ctrl-C, with every process down: tasks still waiting on the radio would hold up the interpreter's
    exit (asyncio waits for every cancelled task), so they are named in the demo's log and the process ends now."""
    leftover = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    if not leftover:
        return
    if remove_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        with (workdir / "demo.log").open("a") as f:
            f.writelines(f"left at Ctrl-C: {t.get_name()} {t.get_coro()}\n" for t in leftover)
    console.print("stopped; every process is down.")
    sys.stdout.flush()
    os._exit(130)


def unsynced(gw: Any, stats: list[Path]) -> list[str]:
    """The shoes' finished runs (as each shoe's ``--stats`` file lists them) the server has not yet stored or
    refused, by shoe."""
    missing = []
    for path in stats:
        try:
            shoe = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            missing.append(f"{path.stem} (still running)")
            continue
        store = gw.stores.get(shoe["serial"])
        for r in shoe["runs"]:
            if r["acknowledged"] or not r["complete"] or not r["stride_count"]:
                continue
            if store is None or (r["run_id"] not in store.uploaded and r["run_id"] not in store.rejected):
                missing.append(f"{shoe['side']} shoe's run {r['run_id']} ({r['stride_count']} strides)")
    return missing


def round_settled(gw: Any, stats: list[Path]) -> bool:
    """Both shoes have finished, every run they finished is stored (or refused) and acknowledged to its shoe."""
    return not unsynced(gw, stats) and gw.settled(0)


def print_run(console: Console, k: int, n: int, detail: dict[str, Any], r: dict[str, Any]) -> None:
    t = Table(title=f"Run {k} of {n}: {detail['start_time'][:16].replace('T', ' ')} UTC", show_header=False)
    t.add_row(
        "distance",
        f"{detail['distance_m'] / 1000:.2f} km (simulator truth {r['true_distance_m'] / 1000:.2f} km, {r['error_pct']:+.1f}%)",
    )
    pace = 1000 * detail["moving_time_s"] / detail["distance_m"] if detail["distance_m"] else None
    t.add_row(
        "moving time",
        f"{int(detail['moving_time_s'] // 60)}:{int(detail['moving_time_s'] % 60):02d}  pace {_pace(pace)}",
    )
    t.add_row("cadence", f"{detail['avg_cadence_spm']:.0f} steps/min" if detail["avg_cadence_spm"] else "–")
    t.add_row("strides", ", ".join(f"{s} {c}" for s, c in r["strides"].items()))
    if r["records"]:
        t.add_row(
            "records",
            ", ".join(
                f"{distance_key(x['distance_m']).replace('_', ' ')} {_clock(x['time_s'])}"
                for x in r["records"]
            ),
        )
    if r["awards"]:
        t.add_row("achievements", ", ".join(a["name"] for a in r["awards"]))
    console.print(t)


def _clock(t_s: float) -> str:
    m, s = divmod(round(t_s), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def print_totals(console: Console, records: list[dict[str, Any]], achievements: list[dict[str, Any]]) -> None:
    t = Table(title="Personal records")
    t.add_column("distance")
    t.add_column("time", justify="right")
    t.add_column("when")
    for r in records:
        best = r["best"][0]
        t.add_row(r["key"].replace("_", " "), _clock(best["time_s"]), best["run_start"][:10])
    console.print(t)
    earned = [a["name"] for a in achievements if a["earned"]]
    console.print(f"[bold]Achievements earned[/bold] ({len(earned)}): " + ", ".join(earned))


def main(
    *,
    plan: str,
    speedup: float,
    runs: int,
    browser: bool,
    keep: bool,
    port: int,
    seed: int,
    view: bool,
    report: Path | None,
    password: str,
    workdir: Path | None,
    console: Console,
) -> int:
    """Run the demo until its runs are done (or Ctrl-C); the exit status: 1 if a run was refused or it failed."""
    tmp = None
    if workdir is None:
        tmp = Path(tempfile.mkdtemp(prefix="soleware-demo-"))
        workdir = tmp
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(
        f"[bold]Soleware demo[/bold]: {runs} run(s) of “{plan}” at {speedup:.0f}× — logs in {workdir}"
    )
    # Ctrl-C (SIGINT) is how the demo stops, even when a shell that ignores SIGINT (a background job) started it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = asyncio.run(
            run_demo(
                plan=plan,
                speedup=speedup,
                runs=runs,
                browser=browser,
                keep=keep,
                port=port,
                workdir=workdir,
                seed=seed,
                password=password,
                console=console,
                view=view,
                report=report,
                remove_workdir=tmp is not None and not keep,
            )
        )
        return 1 if any("rejected" in r for r in result["runs"]) else 0
    except KeyboardInterrupt:
        console.print("stopped; every process is down.")
        return 0
    except RuntimeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    finally:
        if tmp is not None and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
