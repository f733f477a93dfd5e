"""A run entered by hand in the web app (headless Chromium, 390×844): the form on the runs page, its checks, the
run's page; in English and Chinese, axe-clean, with screenshots."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(signed_up_page):
    p = signed_up_page(name="Mei", email="manual@example.com", timezone_id="Asia/Shanghai")
    yield p
    p.context.close()


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_load_state("networkidle")


def api(page, server, method: str, path: str, body: dict | None = None):
    cookie = next(c for c in page.context.cookies() if c["name"] == "soleware_session")
    headers = {"Authorization": f"Bearer {cookie['value']}", "Content-Type": "application/json"}
    return page.request.fetch(
        server.url + path, method=method, headers=headers, data=None if body is None else json.dumps(body)
    )


def fill(page, *, day: dt.date, time: str, distance: str, minutes: str, title: str = "") -> None:
    page.locator("#m-date").fill(day.isoformat())
    page.locator("#m-time").fill(time)
    page.locator("#m-distance").fill(distance)
    page.locator("#m-h").fill("")
    page.locator("#m-min").fill(minutes)
    page.locator("#m-s").fill("")
    page.locator("#m-title").fill(title)


def test_a_run_entered_by_hand_from_the_runs_page(page, server, screenshots, axe):
    assert (
        api(page, server, "POST", "/api/shoes", {"serial": "SW-L-0042", "name": "Daily trainers"}).status
        == 201
    )
    yesterday = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date() - dt.timedelta(days=1)
    page.goto("/runs")
    wait_ready(page)
    page.get_by_role("button", name="Add a run").click()
    form = page.locator("#manual-box")
    expect(form).to_be_visible()
    expect(page.locator("#m-distance")).to_be_focused()
    expect(page.locator("#m-shoe option")).to_have_count(2)  # none, and the runner's shoes
    assert page.locator("#m-date").input_value() and page.locator("#m-time").input_value()

    # 85 km in 20 min: a unit slip, said in the page before anything is sent
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/runs/manual") else None)
    fill(page, day=yesterday, time="06:30", distance="85", minutes="20")
    page.get_by_role("button", name="Add run", exact=True).click()
    expect(page.locator("#manual-error")).to_contain_text("faster than anyone runs")
    fill(page, day=yesterday, time="06:30", distance="8.5", minutes="")
    page.get_by_role("button", name="Add run", exact=True).click()
    expect(page.locator("#manual-error")).to_have_text("Give the time you ran for.")
    expect(page.locator("#m-min")).to_be_focused()
    assert sent == []

    fill(page, day=yesterday, time="06:30", distance="8.5", minutes="45", title="Treadmill at the gym")
    page.locator("#m-shoe").select_option("SW-L-0042")
    page.screenshot(path=str(screenshots / "en-runs-add-run.png"), full_page=True)
    assert axe(page, "runs-add-run/en") == []
    page.get_by_role("button", name="Add run", exact=True).click()
    page.wait_for_url("**/runs/*")
    wait_ready(page)
    expect(page.locator("#run-title")).to_have_text("Treadmill at the gym")
    expect(page.locator("#run-manual")).to_be_visible()
    expect(page.locator("#s-distance")).to_have_text("8.50 km")
    expect(page.locator("#s-moving")).to_have_text("45:00")
    expect(page.locator("#s-pace")).to_contain_text("5:18")
    expect(page.locator("#run-when")).to_contain_text("6:30")
    for heading in ("h-charts", "h-splits", "h-efforts"):
        expect(page.locator(f"section[aria-labelledby='{heading}']")).to_be_hidden()
    page.screenshot(path=str(screenshots / "en-run-manual.png"), full_page=True)
    assert axe(page, "run-manual/en") == []

    # a slip of the thumb: corrected from the run's page, in place
    page.get_by_role("link", name="Correct it").click()
    wait_ready(page)
    expect(page.locator("#h-manual")).to_have_text("Correct a run entered by hand")
    expect(page.locator("#m-distance")).to_have_value("8.5")
    expect(page.locator("#m-min")).to_have_value("45")
    expect(page.locator("#m-title")).to_have_value("Treadmill at the gym")
    expect(page.locator("#m-shoe")).to_have_value("SW-L-0042")
    page.locator("#m-distance").fill("8.8")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/runs/*")
    wait_ready(page)
    expect(page.locator("#s-distance")).to_have_text("8.80 km")
    run_id = page.url.rsplit("/", 1)[1]
    assert [r["id"] for r in api(page, server, "GET", "/api/runs").json()["runs"]] == [run_id]
    page.goto("/runs")
    wait_ready(page)
    expect(page.locator("#runs li")).to_have_count(1)
    expect(page.locator("#runs li .meta")).to_contain_text("entered by hand")
    # a correction opened and closed with the "Add a run" button leaves a plain new entry behind, not the correction
    page.goto(f"/runs?edit={run_id}")
    wait_ready(page)
    expect(page.locator("#m-distance")).to_have_value("8.8")
    page.get_by_role("button", name="Add a run").click()
    expect(page.locator("#manual-box")).to_be_hidden()
    page.get_by_role("button", name="Add a run").click()
    expect(page.locator("#h-manual")).to_have_text("Add a run by hand")
    expect(page.locator("#m-distance")).to_have_value("")
    stored = api(page, server, "GET", f"/api/runs/{run_id}").json()
    assert stored["source"] == "manual" and stored["shoe_serials"] == ["SW-L-0042"]
    start = dt.datetime.fromisoformat(stored["start_time"])
    assert start.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None) == dt.datetime.combine(
        yesterday, dt.time(6, 30)
    )
    assert stored["time_zone"] == "Asia/Shanghai"
    shoe = next(s for s in api(page, server, "GET", "/api/shoes").json() if s["serial"] == "SW-L-0042")
    assert shoe["distance_m"] == pytest.approx(8800.0)
    assert page.errors == []  # type: ignore[attr-defined]


def test_adding_a_run_by_hand_in_chinese(page, server, screenshots, axe):
    yesterday = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date() - dt.timedelta(days=2)
    assert api(page, server, "PATCH", "/api/me", {"locale": "zh"}).ok
    page.goto("/runs")
    wait_ready(page)
    page.get_by_role("button", name="添加跑步").click()
    expect(page.locator("#h-manual")).to_have_text("手动添加跑步")
    expect(page.locator("label[for=m-distance]")).to_contain_text("公里")
    fill(page, day=yesterday, time="19:05", distance="5", minutes="")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator("#manual-error")).to_have_text("请填写跑步用时。")
    fill(page, day=yesterday, time="19:05", distance="5", minutes="27")
    page.screenshot(path=str(screenshots / "zh-runs-add-run.png"), full_page=True)
    assert axe(page, "runs-add-run/zh") == []
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_url("**/runs/*")
    wait_ready(page)
    expect(page.locator("#run-manual")).to_contain_text("手动添加")
    expect(page.locator("#s-distance")).to_have_text("5.00 公里")
    page.screenshot(path=str(screenshots / "zh-run-manual.png"), full_page=True)
    assert axe(page, "run-manual/zh") == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_run_of_the_phone_alone_is_named_in_the_runners_language(page, server):
    """The phone measuring alone records under one name in every language (one calibration for it); pages show
    it as "this phone" in the runner's (Chinese, set by the test before)."""
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    body = {
        "start_time": start.isoformat(),
        "time_zone": "Asia/Shanghai",
        "sensor": {"name": "Phone"},
        "samples": {
            "t_s": [0.0, 300.0, 600.0],
            "speed_mps": [3.0, 3.0, 3.0],
            "total_distance_m": [0.0, 900.0, 1800.0],
        },
    }
    r = api(page, server, "POST", "/api/runs", body)
    assert r.status == 201, r.text()
    page.goto("/runs")
    wait_ready(page)
    expect(page.locator("#runs li").first.locator(".meta")).to_contain_text("本手机")
    page.goto(f"/runs/{r.json()['run_id']}")
    wait_ready(page)
    expect(page.locator("#run-when")).to_contain_text("本手机")
