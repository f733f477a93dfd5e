"""``soleware demo --phone``: Chromium is the phone. Its web app pairs the two virtual shoes over Web Bluetooth
(emulated by DevTools and bridged to the shoes over Bumble, :mod:`soleware.link.web_bridge`), shows the run live
and uploads it when the run is finished, instead of the Python gateway; then it syncs the shoes' run logs, and
the logged run (every stride, those run before the phone paired too) takes the live run's place on the service.

The shoes, the radio and the run service are the same processes as in the default demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from soleware.demo._processes import Demo, wait_http, wait_radio
from soleware.demo._run import print_run, print_totals, true_strides

__all__ = ["phone_main", "run_phone_demo"]

DEMO_EMAIL = "demo@soleware.example"
DEMO_ZONE = "Asia/Shanghai"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--enable-experimental-web-platform-features",  # Web Bluetooth on Linux
    "--enable-features=WebBluetoothNewPermissionsBackend",  # getDevices() across reloads
]
#: how long after the shoes' replay the phone may take to pair, finish and upload
GRACE_S = 60.0


async def run_phone_demo(
    *,
    plan: str,
    speedup: float,
    headless: bool,
    port: int,
    workdir: Path,
    seed: int,
    password: str,
    console: Console,
    keep: bool = False,
    report: Path | None = None,
) -> dict[str, Any]:
    """One run of ``plan`` with Chromium as the phone: the figures of the run the server stored from the shoes'
    logs, beside what the page showed live and the simulator's truth (written to ``report`` as JSON if given;
    ``keep``: serve until Ctrl-C after)."""
    from playwright.async_api import async_playwright

    from soleware.link.web_bridge import NOTIFY_SHIM, WebBluetoothBridge
    from soleware.shoe.sim import simulate

    demo = Demo(workdir=workdir)
    url = f"http://127.0.0.1:{port}"
    password = password or "demo-" + secrets.token_hex(4)
    env = {"SOLEWARE_DATABASE_URL": f"sqlite:///{workdir / 'soleware.db'}", "SOLEWARE_PASSWORD": password}
    bridge: WebBluetoothBridge | None = None
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
        truth = simulate(plan, seed=seed)
        duration_s = truth["left"].duration_s
        stats = [workdir / f"shoe-{side}.json" for side in ("left", "right")]
        for i, side in enumerate(("left", "right")):
            await demo.spawn(
                f"shoe-{side}",
                *("shoe", "serve", "--side", side, "--transport", transports[i], "--plan", plan),
                *("--seed", str(seed), "--speedup", str(speedup), "--log", str(workdir / f"{side}.img")),
                *("--stats", str(stats[i])),
            )
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=headless, args=CHROMIUM_ARGS)
            context = await browser.new_context(base_url=url, viewport={"width": 390, "height": 844})
            await context.add_init_script(NOTIFY_SHIM)
            page = await context.new_page()
            bridge = WebBluetoothBridge(transport=transports[2])
            await bridge.attach(
                browser_session=await browser.new_browser_cdp_session(),
                page_session=await context.new_cdp_session(page),
                page=page,
            )
            await page.goto(f"/signin?email={DEMO_EMAIL}")
            await page.fill("#email", DEMO_EMAIL)
            await page.fill("#password", password)
            await page.click("#signin button[type=submit]")
            await page.wait_for_url(lambda u: "/signin" not in u)
            deadline = time.monotonic() + 30
            while sum(link.advert.is_soleware for link in bridge.links.values()) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the phone did not find both shoes advertising")
                await bridge.discover(0.5)
            await page.goto("/phone")
            await page.wait_for_selector("body[data-ready='1']")
            for side in ("left", "right"):
                address = next(a for a, k in bridge.links.items() if k.advert.side == side)
                bridge.choices.append(address)
                await page.click("#pair")
                await page.wait_for_selector(f"li.sensor[data-side='{side}'][data-state='connected']")
                console.print(f"phone paired the {side} shoe")
            console.print(f"[bold]Phone[/bold] running the plan live ({duration_s / speedup:.0f} s)…")
            deadline = time.monotonic() + duration_s / speedup + GRACE_S
            while not all(s.exists() for s in stats):
                if time.monotonic() > deadline:
                    raise RuntimeError("the shoes did not finish their run in time")
                await asyncio.sleep(0.5)
            await asyncio.sleep(2.0)  # the last strides' notifications
            shown = {
                side: await page.text_content(f".foot[data-side='{side}'] [data-field='strides']")
                for side in ("left", "right")
            }
            await page.click("#stop")
            # "no runs waiting" holds before the stop is handled too: the upload is done when the service has it
            async with httpx.AsyncClient(base_url=url) as client:
                token = (
                    await client.post("/api/auth/signin", json={"email": DEMO_EMAIL, "password": password})
                ).json()["access_token"]
                client.headers["Authorization"] = f"Bearer {token}"
                live = await _runs_when(client, bool, "the phone did not upload the run in time")
                await page.wait_for_selector("#stored[data-count='0']", timeout=GRACE_S * 1000)
                console.print(f"phone uploaded the live run (strides on the page: {shown})")

                logged = {
                    side: json.loads(path.read_text())["strides_sent"]
                    for side, path in zip(("left", "right"), stats, strict=True)
                }
                await page.click("#sync")
                await page.wait_for_selector("#sync-state[data-state='done']", timeout=GRACE_S * 1000)
                live_id = live[0]["id"]
                runs = await _runs_when(
                    client,
                    lambda rs: len(rs) == 1 and rs[0]["id"] != live_id,
                    "the run the shoes logged did not replace the live run in time",
                )
                detail = (await client.get(f"/api/runs/{runs[0]['id']}")).json()
                records = (await client.get("/api/records")).json()
                achievements = (await client.get("/api/achievements")).json()
            console.print(
                f"phone synced the shoes' run logs: the logged run replaced the live one ({logged})"
            )
            await bridge.close()
            bridge = None
            await browser.close()
        truth_m = truth["left"].ground_truth.distance_m
        assert truth_m is not None  # the simulator knows the distance it laid out
        run = {
            "run_id": detail["id"],
            "distance_m": detail["distance_m"],
            "true_distance_m": float(truth_m),
            "error_pct": 100.0 * (detail["distance_m"] / float(truth_m) - 1.0),
            "strides": {f["side"]: f["strides"] for f in detail["feet"]},
            "true_strides": {side: true_strides(r) for side, r in truth.items()},
            "shoe_strides": logged,
            "shown_live": {side: int((n or "0").replace(",", "")) for side, n in shown.items()},
            "moving_time_s": detail["moving_time_s"],
            "avg_cadence_spm": detail["avg_cadence_spm"],
            "source": detail["source"],
        }
        print_run(console, 1, 1, detail, run | {"records": [], "awards": []})
        print_totals(console, records, achievements)
        result = {"url": url, "email": DEMO_EMAIL, "password": password, "shown": shown, "runs": runs}
        result |= {"run": run, "records": records, "earned": [a["id"] for a in achievements if a["earned"]]}
        if report is not None:
            report.write_text(json.dumps(result, indent=2, default=str))
        if keep:
            console.print(f"\n[bold]Still serving[/bold] at {url}/ — Ctrl-C to stop.")
            await asyncio.get_running_loop().create_future()
        return result
    finally:
        if bridge is not None:
            with contextlib.suppress(Exception):
                await bridge.close()
        await demo.stop_all()


async def _runs_when(client: httpx.AsyncClient, done: Any, failure: str) -> list[dict[str, Any]]:
    """The runner's runs once ``done(runs)`` holds (RuntimeError ``failure`` after ``GRACE_S``)."""
    deadline = time.monotonic() + GRACE_S
    while True:
        runs: list[dict[str, Any]] = (await client.get("/api/runs")).json()["runs"]
        if done(runs):
            return runs
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        await asyncio.sleep(0.5)


def phone_main(
    *,
    plan: str,
    speedup: float,
    headless: bool,
    port: int,
    seed: int,
    password: str,
    workdir: Path | None,
    console: Console,
    keep: bool = False,
    report: Path | None = None,
) -> int:
    """Run the phone demo; the exit status (1 if it failed). ``report``: its figures as JSON."""
    tmp = None
    if workdir is None:
        tmp = Path(tempfile.mkdtemp(prefix="soleware-demo-phone-"))
        workdir = tmp
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(
        f"[bold]Soleware demo, the phone as the gateway[/bold]: “{plan}” at {speedup:.0f}× — logs in {workdir}"
    )
    # Ctrl-C (SIGINT) is how the demo stops, even when a shell that ignores SIGINT (a background job) started it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        asyncio.run(
            run_phone_demo(
                plan=plan,
                speedup=speedup,
                headless=headless,
                port=port,
                workdir=workdir,
                seed=seed,
                password=password,
                console=console,
                keep=keep,
                report=report,
            )
        )
    except KeyboardInterrupt:
        console.print("stopped; every process is down.")
        return 0
    except RuntimeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
