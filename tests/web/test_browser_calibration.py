"""Calibration in the web app (headless Chromium, 390×844): marking runs with a known distance on their page, the
factor and references on the settings page, reset; in English and Chinese, axe-clean, with screenshots."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMAIL = "cal@example.com"


def strides_body(*, start: str, distance_m: float, speed_mps: float = 3.2) -> dict:
    period = 0.75
    n = int(distance_m / (speed_mps * period)) + 1
    return {
        "start_time": start,
        "time_zone": "Europe/London",
        "shoe_serials": ["SW-L-0007", "SW-R-0007"],
        "strides": [
            {
                "side": side,
                "t_start_s": i * period + off,
                "t_end_s": (i + 1) * period + off,
                "length_m": speed_mps * period,
            }
            for side, off in (("left", 0.0), ("right", period / 2))
            for i in range(n)
        ],
    }


@pytest.fixture(scope="module")
def page(signed_up_page):
    p = signed_up_page(name="Cal", email=EMAIL, timezone_id="Europe/London")
    yield p
    p.context.close()


def upload(page, server, days_ago: int, distance_m: float, laps: list[dict] | None = None) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "soleware_session")
    start = (dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=days_ago)).isoformat()
    r = page.request.post(
        server.url + "/api/runs",
        data=json.dumps({**strides_body(start=start, distance_m=distance_m), "laps": laps or []}),
        headers={"Authorization": f"Bearer {cookie['value']}", "Content-Type": "application/json"},
    )
    assert r.status == 201, r.text()
    return r.json()["run_id"]


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_load_state("networkidle")


def mark(page, run_id: str, kind: str, amount: str) -> None:
    page.goto(f"/runs/{run_id}")
    wait_ready(page)
    page.locator("#ref-kind").select_option(kind)
    page.locator("#ref-amount").fill(amount)
    page.get_by_role("button", name="This run had a known distance").click()
    expect(page.locator("#ref-marked")).to_be_visible()


def test_marking_known_distances_calibrates_and_settings_show_and_reset_it(page, server, screenshots, axe):
    # the shoes read 5 % long: 4.2 km measured on a 10-lap (4 km) track
    ids = [upload(page, server, 10 - k, 4200.0) for k in range(4)]
    mark(page, ids[0], "track", "10")
    assert "the shoes measured 4.20 km" in page.locator("#ref-marked").inner_text()
    page.screenshot(path=str(screenshots / "en-run-reference.png"), full_page=True)
    page.locator("#reference").screenshot(path=str(screenshots / "en-run-reference-section.png"))
    mark(page, ids[1], "course", "4")
    mark(page, ids[2], "treadmill", "4.01")

    page.goto(f"/runs/{ids[3]}")
    wait_ready(page)
    expect(page.locator("#ref-amount")).to_be_visible()
    assert page.locator("#raw-distance").count() == 0  # stored before the calibration: not corrected
    page.get_by_role("button", name="This run had a known distance").click()  # empty: refused in the page
    expect(page.locator("#ref-marked")).to_have_count(0)

    page.goto("/settings")
    wait_ready(page)
    card = page.locator("#calibration .card")
    expect(card).to_have_count(1)
    text = card.inner_text()
    assert "SW-L-0007 + SW-R-0007" in text and re.search(r"−4\.\d %", text), text
    assert text.count("counts") == 3
    page.screenshot(path=str(screenshots / "en-settings-calibration.png"), full_page=True)
    assert axe(page, "settings-calibration/en") == []

    # a new run is corrected, and its page says what the shoes measured
    new_id = upload(page, server, 1, 4200.0)
    page.goto(f"/runs/{new_id}")
    wait_ready(page)
    expect(page.locator("#raw-distance")).to_contain_text("The shoes measured 4.20 km")
    page.locator("#reference").screenshot(path=str(screenshots / "en-run-calibrated-section.png"))
    assert page.locator("#s-distance").inner_text().startswith("4.0")
    assert axe(page, "run-reference/en") == []

    # a fourth reading 5 % from the three: held until another agrees, and the page says so; then unmarked
    mark(page, ids[3], "treadmill", "4.21")
    page.goto("/settings")
    wait_ready(page)
    text = page.locator("#calibration .card").inner_text()
    assert text.count("counts") == 3 and "waits for another reference to agree" in text, text
    page.screenshot(path=str(screenshots / "en-settings-calibration-unconfirmed.png"), full_page=True)
    page.goto("/settings?lang=zh")
    wait_ready(page)
    expect(page.locator("#calibration .card")).to_contain_text("等待另一条参考印证")
    page.locator("#calibration").screenshot(path=str(screenshots / "zh-settings-calibration-unconfirmed.png"))
    page.goto(f"/runs/{ids[3]}")
    wait_ready(page)
    page.locator("#ref-remove").click()
    expect(page.locator("#ref-amount")).to_be_visible()

    # unmark one on its page, then reset what is left in the settings
    page.goto(f"/runs/{ids[0]}")
    wait_ready(page)
    page.locator("#ref-remove").click()
    expect(page.locator("#ref-amount")).to_be_visible()
    page.goto("/settings")
    wait_ready(page)
    expect(page.locator("#calibration .factor")).to_contain_text("Not calibrated yet: 2 of 3")
    page.get_by_role("button", name="Reset calibration").click()
    page.locator("#confirm-reset button[value=reset]").click()
    expect(page.locator("#calibration")).to_contain_text("before the reset")
    assert not page.errors


def test_calibration_in_chinese(page, server, screenshots, axe):
    page.goto("/settings?lang=zh")
    wait_ready(page)
    expect(page.locator("#h-calibration")).to_have_text("距离校准")
    expect(page.locator("#calibration")).to_contain_text("在重置之前")
    page.screenshot(path=str(screenshots / "zh-settings-calibration.png"), full_page=True)
    assert axe(page, "settings-calibration/zh") == []
    run_id = upload(page, server, 0, 3000.0)
    page.goto(f"/runs/{run_id}?lang=zh")
    wait_ready(page)
    expect(page.locator("#h-reference")).to_have_text("已知距离")
    expect(page.get_by_role("button", name="这次跑步距离已知")).to_be_visible()
    page.screenshot(path=str(screenshots / "zh-run-reference.png"), full_page=True)
    page.locator("#reference").screenshot(path=str(screenshots / "zh-run-reference-section.png"))
    assert not page.errors


def test_the_km_markers_pressed_in_a_race_are_a_known_distance(page, server, screenshots, axe):
    """Offered only for a run with laps; the spacing starts at one of the runner's units; in Chinese."""
    plain = upload(page, server, 2, 3000.0)
    page.goto(f"/runs/{plain}?lang=zh")
    wait_ready(page)
    assert "markers" not in page.locator("#ref-kind option").evaluate_all("(os) => os.map((o) => o.value)")
    # a 5 km race, the shoes 5 % long (1050 m every 328 s at 3.2 m/s), Lap pressed at the first four markers
    marks = [328.1 * k for k in range(1, 5)]
    ends = [*marks, 1700.0]
    race = upload(
        page,
        server,
        1,
        5250.0,
        laps=[{"t_start_s": a, "t_end_s": b} for a, b in zip([0.0, *marks], ends, strict=True)],
    )
    page.goto(f"/runs/{race}?lang=zh")
    wait_ready(page)
    page.locator("#ref-kind").select_option("markers")
    expect(page.locator("label[for=ref-amount]")).to_have_text("标志间距（公里）")
    expect(page.locator("#ref-amount")).to_have_value("1")
    expect(page.locator("#ref-hint")).to_contain_text("每圈一个标志间距")
    page.locator("#reference").screenshot(path=str(screenshots / "zh-run-reference-markers-form.png"))
    page.get_by_role("button", name="这次跑步距离已知").click()
    expect(page.locator("#ref-marked")).to_contain_text("按了计圈的距离标志：4.00 公里")
    assert "4.20 公里" in page.locator("#ref-marked").inner_text()
    page.locator("#reference").screenshot(path=str(screenshots / "zh-run-reference-markers.png"))
    page.goto("/settings?lang=zh")
    wait_ready(page)
    expect(page.locator("#calibration")).to_contain_text("距离标志 · 已知 4.00 公里，测得 4.20 公里")
    assert axe(page, "run-reference-markers/zh") == []
    assert not page.errors
