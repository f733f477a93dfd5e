/* Progress: weekly/monthly volume, form trends, training load, the weekly goal and a race prediction. */
"use strict";

Soleware.ready(async (me) => {
  const S = Soleware;
  const { $, $$, t, api } = S;
  let period = "week";
  let data = null;

  const periodLabel = (iso) => {
    const d = new Date(iso + "T12:00:00");
    return new Intl.DateTimeFormat(S.CONFIG.lang, period === "week" ? { month: "short", day: "numeric" } : { year: "2-digit", month: "short" }).format(d);
  };

  function drawVolume() {
    const totals = data.totals;
    S.chart($("#c-volume"), {
      type: "bar",
      data: {
        labels: totals.map((p) => periodLabel(p.period_start)),
        datasets: [{ label: S.distUnit(), data: totals.map((p) => S.distValue(p.distance_m)), backgroundColor: S.PALETTE[0] }],
      },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => S.num(c.parsed.y, 1) + " " + S.distUnit() } } },
        scales: { y: { beginAtZero: true, title: { display: true, text: S.distUnit() }, ticks: { callback: (v) => S.num(v) } } },
      },
    });
    const sum = totals.reduce((a, p) => a + p.distance_m, 0);
    const runs = totals.reduce((a, p) => a + p.runs, 0);
    $("#volume-text").textContent = t("{d} in {n} runs over the periods shown.", { d: S.distance(sum, 1), n: S.num(runs) });
  }

  function trendValue(key, v) {
    if (key.startsWith("pace") || key.startsWith("threshold")) return S.state.imperial ? v * S.KM_PER_MI : v;
    if (key === "contact_time_s") return v * 1000;
    return v;
  }
  function trendTick(key, v) {
    if (key.startsWith("pace") || key.startsWith("threshold")) return S.clock(v);
    if (key === "stride_length_m") return S.num(v, 2);
    return S.num(v);
  }
  function trendUnit(key) {
    return { cadence_spm: t("spm"), stride_length_m: t("m"), contact_time_s: t("ms") }[key] || S.paceUnit();
  }

  function drawTrend() {
    const key = $("#trend").value;
    const points = data.trends[key] || [];
    const isPace = key.includes("pace");
    S.chart($("#c-trend"), {
      type: "line",
      data: {
        labels: points.map((p) => periodLabel(p.period_start)),
        datasets: [{ data: points.map((p) => trendValue(key, p.value)), borderColor: S.PALETTE[1], backgroundColor: S.PALETTE[1], pointRadius: 3, tension: 0.2 }],
      },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => trendTick(key, c.parsed.y) + " " + trendUnit(key) } } },
        scales: { y: { reverse: isPace, title: { display: true, text: trendUnit(key) }, ticks: { callback: (v) => trendTick(key, v) } } },
      },
    });
    if (points.length >= 2) {
      const a = trendValue(key, points[0].value);
      const b = trendValue(key, points[points.length - 1].value);
      $("#trend-text").textContent = t("From {a} to {b} {unit}.", { a: trendTick(key, a), b: trendTick(key, b), unit: trendUnit(key) });
    } else {
      $("#trend-text").textContent = points.length ? "" : t("Not enough runs yet.");
    }
  }

  function drawGoal() {
    const g = data.weekly_goal;
    const meter = $("#goal-meter");
    if (!g) {
      $("#goal-text").textContent = t("No weekly goal set.");
      meter.hidden = true;
      return;
    }
    meter.hidden = false;
    const pct = Math.round(Math.min(1, g.fraction) * 100);
    meter.setAttribute("aria-valuenow", String(pct));
    meter.setAttribute("aria-valuetext", S.percent(g.fraction));
    meter.firstElementChild.style.width = pct + "%";
    $("#goal-text").textContent = t("{d} of {g} this week ({p}), {n} days left.", {
      d: S.distance(g.distance_m, 1), g: S.distance(g.goal_m, 0), p: S.percent(g.fraction), n: S.num(g.days_left),
    });
    $("#goal").value = Math.round(S.distValue(g.goal_m));
  }

  function drawLoad() {
    const l = data.load;
    $("#load-acute").textContent = l ? S.num(l.acute, 1) : "–";
    $("#load-chronic").textContent = l ? S.num(l.chronic, 1) : "–";
    $("#load-ratio").textContent = l && l.ratio !== null ? S.num(l.ratio, 2) : "–";
    let status = t("Not enough runs yet.");
    if (l && l.ratio !== null && l.chronic > 0.05) {
      if (l.ratio < 0.8) status = t("Lighter than usual");
      else if (l.ratio <= 1.3) status = t("Steady build");
      else if (l.ratio <= 1.5) status = t("Ramping up: take care");
      else status = t("Sharp increase: risk of injury");
    }
    $("#load-status").textContent = status;
  }

  function drawRace() {
    const r = data.race_prediction;
    const goal = me.race_goal_m;
    $("#race").value = goal ? String(goal) : "";
    if (!goal) { $("#race-text").textContent = t("Choose a race to see a predicted finish time."); return; }
    if (!r) { $("#race-text").textContent = t("Run at least 1.5 km in the last 90 days for a prediction."); return; }
    $("#race-text").textContent = t("Predicted {race}: {time} ({pace}).", {
      race: S.distanceName(r.distance_m), time: S.clock(r.predicted_time_s), pace: S.pace((1000 * r.predicted_time_s) / r.distance_m),
    });
  }

  async function load() {
    data = await api("/api/progress", { query: { period, last: period === "week" ? 12 : 12 } });
    drawVolume();
    drawTrend();
    drawGoal();
    drawLoad();
    drawRace();
  }

  for (const b of $$("[data-period]")) {
    b.addEventListener("click", () => {
      period = b.dataset.period;
      for (const o of $$("[data-period]")) o.setAttribute("aria-pressed", String(o === b));
      load().catch(S.fail);
    });
  }
  $("#trend").addEventListener("change", drawTrend);
  $("#goal-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = Number($("#goal").value);
    if (!(v > 0)) { S.toast(t("Enter a distance above zero.")); return; }
    try {
      me = await api("/api/me", { method: "PATCH", body: { weekly_goal_m: v * (S.state.imperial ? S.M_PER_MI : 1000) } });
      localStorage.setItem("soleware.me", JSON.stringify(me));
      await load();
      S.toast(t("Goal saved."));
    } catch (e) { S.fail(e); }
  });
  $("#race").addEventListener("change", async () => {
    const v = Number($("#race").value);
    if (!v) return;
    try {
      me = await api("/api/me", { method: "PATCH", body: { race_goal_m: v } });
      localStorage.setItem("soleware.me", JSON.stringify(me));
      await load();
    } catch (e) { S.fail(e); }
  });
  await load();
});
