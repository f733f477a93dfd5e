"""``soleware demo --phone``: Chromium is the phone. Its web app pairs the two virtual shoes over Web Bluetooth
(emulated by DevTools and bridged to the shoes over Bumble, :mod:`soleware.link.web_bridge`), shows the run live
and uploads it when the run is finished, instead of the Python gateway.

The shoes, the radio and the run service are the same processes as in the default demo. What the phone does not
do yet: read the shoes' run logs (the upload holds the strides the page received live).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from soleware.demo._processes import Demo, wait_http, wait_radio

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
) -> dict[str, Any]:
    """One run of ``plan`` with Chromium as the phone; the run as the server stored it."""
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
        duration_s = simulate(plan, seed=seed)["left"].duration_s
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
                deadline = time.monotonic() + GRACE_S
                while True:
                    runs = (
                        await client.get("/api/runs", headers={"Authorization": f"Bearer {token}"})
                    ).json()["runs"]
                    if runs:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("the phone did not upload the run in time")
                    await asyncio.sleep(0.5)
            await page.wait_for_selector("#stored[data-count='0']", timeout=GRACE_S * 1000)
            console.print(f"phone uploaded the run (strides on the page: {shown})")
            await bridge.close()
            bridge = None
            await browser.close()
        return {"url": url, "email": DEMO_EMAIL, "password": password, "shown": shown, "runs": runs}
    finally:
        if bridge is not None:
            with contextlib.suppress(Exception):
                await bridge.close()
        await demo.stop_all()


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
) -> int:
    """Run the phone demo; the exit status (1 if it failed)."""
    tmp = None
    if workdir is None:
        tmp = Path(tempfile.mkdtemp(prefix="soleware-demo-phone-"))
        workdir = tmp
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(
        f"[bold]Soleware demo, the phone as the gateway[/bold]: “{plan}” at {speedup:.0f}× — logs in {workdir}"
    )
    try:
        result = asyncio.run(
            run_phone_demo(
                plan=plan,
                speedup=speedup,
                headless=headless,
                port=port,
                workdir=workdir,
                seed=seed,
                password=password,
                console=console,
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
    for r in result["runs"]:
        cadence = r["avg_cadence_spm"]
        console.print(
            f"stored: {r['title'] or 'run'} · {r['distance_m'] / 1000:.2f} km · {r['moving_time_s']:.0f} s moving · "
            f"{cadence or 0:.0f} spm · source {r['source']}"
        )
    return 0 if result["runs"] else 1
