/* Run detail: summary, the route the phone recorded (an SVG polyline: no map tiles, so it works offline), charts
   over time or distance, left/right balance, strike types, splits, best efforts, the
   achievements the run earned, export and delete. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, $$, el, t, api } = S;
  const id = decodeURIComponent(location.pathname.split("/")[2] || "");
  let run;
  try {
    run = await api("/api/runs/" + encodeURIComponent(id));
  } catch (e) {
    $("#run-missing").hidden = false;
    if (e.status !== 404 && e.status !== 503) S.fail(e);
    return;
  }
  $("#run-body").hidden = false;
  const title = S.runTitle(run);
  $("#run-title").textContent = title;
  document.title = title + " · Soleware";
  $("#run-when").textContent = S.date(run.start_time, { timeZone: run.time_zone, withTime: true, style: "full" }) +
    (run.sensor ? " · " + t("Recorded with {sensor}", { sensor: S.sensorLabel(run.sensor) }) : "");
  if (run.cut_short) {
    // the file it was read from stops there (a watch's battery died while writing it): the run may have gone on
    const ends = new Date(Date.parse(run.start_time) + 1000 * run.elapsed_time_s).toISOString();
    $("#run-cut").textContent = t("Read from a file cut short: the run stops at {ends}, where the file does, and may have gone on.",
      { ends: S.date(ends, { timeZone: run.time_zone, withTime: true }) });
    $("#run-cut").hidden = false;
  }
  if (run.source === "manual") {
    // nothing was measured: no charts, feet, splits or best efforts to show
    $("#run-manual").hidden = false;
    $("#run-edit").href = "/runs?edit=" + encodeURIComponent(run.id);
    for (const h of ["h-charts", "h-feet", "h-splits", "h-efforts"]) $(`#run-body section[aria-labelledby="${h}"]`).hidden = true;
  }
  const estimated = run.feet.reduce((n, f) => n + (f.estimated_strides || 0), 0);
  if (estimated > 0) {
    // strides the shoes lost samples of (a radio dropout, a logger stall): counted, but not measured
    const metres = run.calibration_factor * run.feet.reduce((m, f) => m + (f.estimated_m || 0), 0);
    const distance = metres < 1000 ? S.num(metres, 0) + " " + t("m") : S.distance(metres);
    $("#run-estimated").textContent = t("Strides estimated across gaps in the sensor data: {n} ({distance}). Their length comes from the pace around them; they have no form figures.",
      { n: S.num(estimated), distance });
    $("#run-estimated").hidden = false;
  }

  // ------------------------------------------------------------------ summary
  const avgPace = run.distance_m > 0 ? (1000 * run.moving_time_s) / run.distance_m : null;
  $("#s-distance").textContent = S.distance(run.distance_m);
  $("#s-moving").textContent = S.clock(run.moving_time_s);
  $("#s-elapsed").textContent = S.clock(run.elapsed_time_s);
  $("#s-pace").textContent = S.pace(avgPace);
  $("#s-cadence").textContent = run.avg_cadence_spm ? S.num(run.avg_cadence_spm) + " " + t("spm") : "–";
  $("#s-strike").textContent = S.percent(run.fore_mid_strike_fraction);

  // ------------------------------------------------------------------ route
  if (run.route && run.route.t_s.length >= 2) drawRoute(run.route);

  // ------------------------------------------------------------------ charts
  const st = run.streams;
  const series = {
    pace: { values: st.speed_mps.map((v) => (v && v > 0.5 ? (S.state.imperial ? S.KM_PER_MI : 1) * (1000 / v) : null)), color: S.PALETTE[0], reverse: true, tick: (v) => S.clock(v), unit: S.paceUnit() },
    cadence: { values: st.cadence_spm, color: S.PALETTE[1], tick: (v) => S.num(v, 1, 0), unit: t("spm") },
    stride: { values: st.stride_length_m, color: S.PALETTE[2], tick: (v) => S.num(v, 2), unit: t("m") },
    contact: { values: st.contact_time_s.map((v) => (v === null ? null : v * 1000)), color: S.PALETTE[3], tick: (v) => S.num(v, 1, 0), unit: t("ms") },
  };
  let axis = "time";
  // Over time a pause (a traffic light) is a break in the lines, not a slope from the stride before it to the one
  // after; other gaps (a value one sample lacks) are bridged.
  const pausesMin = (run.pauses || []).map(([a, b]) => [a / 60, b / 60]);
  const acrossPause = (c) => pausesMin.some(([a, b]) => c.p0.parsed.x < b && c.p1.parsed.x > a);
  function drawCharts() {
    const xs = axis === "time" ? st.t_s.map((s) => s / 60) : st.distance_m.map((m) => S.distValue(m));
    const xTitle = axis === "time" ? t("Time (min)") : t("Distance ({unit})", { unit: S.distUnit() });
    const segment = axis === "time" ? { borderColor: (c) => (acrossPause(c) ? "transparent" : undefined) } : {};
    for (const [key, s] of Object.entries(series)) {
      const { xs: x, ys: y } = S.thin(xs, s.values);
      S.chart($("#c-" + key), {
        type: "line",
        data: { datasets: [{ data: x.map((xv, i) => ({ x: xv, y: y[i] })), borderColor: s.color, borderWidth: 2, pointRadius: 0, spanGaps: true, tension: 0.2, segment }] },
        options: {
          parsing: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => s.tick(c.parsed.y) + " " + s.unit } } },
          scales: {
            x: { type: "linear", min: 0, max: xs[xs.length - 1], title: { display: true, text: xTitle }, ticks: { callback: (v) => S.num(v, 1, 0) } },
            y: { reverse: !!s.reverse, title: { display: true, text: s.unit }, ticks: { callback: (v) => s.tick(v) } },
          },
        },
      });
    }
  }
  for (const b of $$("[data-axis]")) {
    b.addEventListener("click", () => {
      axis = b.dataset.axis;
      for (const o of $$("[data-axis]")) o.setAttribute("aria-pressed", String(o === b));
      drawCharts();
    });
  }
  drawCharts();

  // ------------------------------------------------------------------ feet
  const feet = Object.fromEntries(run.feet.map((f) => [f.side, f]));
  const L = feet.left || {};
  const R = feet.right || {};
  if (L.avg_contact_time_s && R.avg_contact_time_s) {
    const l = L.avg_contact_time_s / (L.avg_contact_time_s + R.avg_contact_time_s);
    const bar = el("div", { class: "balance", role: "img", "aria-label": t("Contact time balance: left {l}, right {r}", { l: S.percent(l, 1), r: S.percent(1 - l, 1) }) },
      el("span", { class: "l", text: t("L") + " " + S.percent(l, 1) }),
      el("span", { class: "r", text: t("R") + " " + S.percent(1 - l, 1) }));
    bar.children[0].style.width = l * 100 + "%";
    bar.children[1].style.width = (1 - l) * 100 + "%";
    $("#balance").append(el("p", { class: "small muted", text: t("Ground contact time, share of each foot (50 % is even).") }), bar);
  } else {
    $("#balance").append(el("p", { class: "muted", text: t("Balance needs data from both shoes.") }));
  }
  const main = (f) => {
    const entries = Object.entries(f.strike_types || {});
    if (!entries.length) return "–";
    return S.strikeName(entries.sort((a, b) => b[1] - a[1])[0][0]);
  };
  const rows = [
    [t("Strides"), (f) => S.num(f.strides)],
    [t("Contact time"), (f) => (f.avg_contact_time_s ? S.num(f.avg_contact_time_s * 1000) + " " + t("ms") : "–")],
    [t("Flight time"), (f) => (f.avg_flight_time_s ? S.num(f.avg_flight_time_s * 1000) + " " + t("ms") : "–")],
    [t("Strike angle"), (f) => (f.avg_strike_angle_deg !== null && f.avg_strike_angle_deg !== undefined ? S.num(f.avg_strike_angle_deg, 1) + "°" : "–")],
    [t("Impact"), (f) => (f.avg_impact_g ? S.num(f.avg_impact_g, 1) + " g" : "–")],
    [t("Main strike type"), main],
  ];
  $("#feet tbody").replaceChildren(...rows.map(([label, fn]) =>
    el("tr", {}, el("th", { scope: "row", text: label }), el("td", { class: "num", text: feet.left ? fn(L) : "–" }), el("td", { class: "num", text: feet.right ? fn(R) : "–" }))));

  const types = ["rearfoot", "midfoot", "forefoot"];
  const sides = run.feet.map((f) => f.side);
  const share = (f, ty) => {
    const total = Object.values(f.strike_types || {}).reduce((a, b) => a + b, 0);
    return total ? (100 * (f.strike_types[ty] || 0)) / total : 0;
  };
  S.chart($("#c-strikes"), {
    type: "bar",
    data: {
      labels: sides.map((s) => (s === "left" ? t("Left") : t("Right"))),
      datasets: types.map((ty, i) => ({ label: S.strikeName(ty), data: run.feet.map((f) => share(f, ty)), backgroundColor: S.PALETTE[i] })),
    },
    options: {
      indexAxis: "y",
      plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + S.percent(c.parsed.x / 100) } } },
      scales: { x: { stacked: true, max: 100, ticks: { callback: (v) => S.percent(v / 100) } }, y: { stacked: true } },
    },
  });
  $("#strike-text").textContent = run.feet.map((f) =>
    (f.side === "left" ? t("Left") : t("Right")) + ": " + types.map((ty) => S.strikeName(ty) + " " + S.percent(share(f, ty) / 100)).join(", ")).join(" · ");

  // ------------------------------------------------------------------ each foot over the run, from its strides
  async function drawFeetOverRun() {
    let cols;
    try {
      cols = await api("/api/runs/" + encodeURIComponent(run.id) + "/strides");
    } catch (e) {
      cols = null;
    }
    const box = $("#c-feet-run").closest(".chart");
    const sides = cols ? cols.side_names.filter((name, k) => cols.side.includes(k) && cols.contact_time_s.some((v, i) => v !== null && cols.side[i] === k)) : [];
    if (!sides.length) {
      box.hidden = true;
      $("#feet-run-text").textContent = t("The strides of this run are not stored (imported from another app).");
      return;
    }
    const binS = Math.max(30, Math.ceil(run.elapsed_time_s / 120 / 30) * 30);
    const datasets = sides.map((name, k) => {
      const code = cols.side_names.indexOf(name);
      const sum = new Map();
      cols.side.forEach((sd, i) => {
        const v = cols.contact_time_s[i];
        if (sd !== code || v === null) return;
        const bin = Math.floor(cols.t_end_s[i] / binS);
        const a = sum.get(bin) || [0, 0];
        sum.set(bin, [a[0] + v, a[1] + 1]);
      });
      const points = [...sum.entries()].sort((a, b) => a[0] - b[0]).map(([bin, [total, n]]) => ({ x: ((bin + 0.5) * binS) / 60, y: Math.round((10000 * total) / n) / 10 }));
      return { label: name === "left" ? t("Left") : t("Right"), data: points, borderColor: S.PALETTE[k], borderWidth: 2, pointRadius: 0, tension: 0.2 };
    });
    // a steady runner's means differ by a fraction of a millisecond: the axis spans at least 20 ms around them
    const ys = datasets.flatMap((d) => d.data.map((p) => p.y));
    const mid = (Math.min(...ys) + Math.max(...ys)) / 2;
    S.chart($("#c-feet-run"), {
      type: "line",
      data: { datasets },
      options: {
        parsing: false,
        plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + S.num(c.parsed.y, 1, 0) + " " + t("ms") } } },
        scales: {
          x: { type: "linear", min: 0, max: run.elapsed_time_s / 60, title: { display: true, text: t("Time (min)") }, ticks: { callback: (v) => S.num(v, 1, 0) } },
          y: { suggestedMin: mid - 10, suggestedMax: mid + 10, title: { display: true, text: t("ms") }, ticks: { callback: (v) => S.num(v, 1, 0) } },
        },
      },
    });
    $("#feet-run-text").textContent = t("Mean ground contact time of each foot per {n} s, from {strides} strides.", { n: S.num(binS), strides: S.num(cols.side.length) });
  }
  drawFeetOverRun();

  // ------------------------------------------------------------------ laps
  // one lap over the whole run (a watch's file without laps) says nothing the summary does not
  $("#laps").hidden = run.lap_splits.length < 2;
  $("#lap-table tbody").replaceChildren(...run.lap_splits.map((s) =>
    el("tr", {},
      el("td", {}, S.num(s.index + 1), s.name ? el("span", { class: "lap-name", text: s.name }) : null),
      el("td", { class: "num", text: S.distance(s.distance_m) }),
      el("td", { class: "num", text: S.clock(s.time_s) }),
      el("td", { class: "num", text: s.pace_s_per_km ? S.pace(s.pace_s_per_km) : "–" }),
      el("td", { class: "num", text: S.num(s.avg_cadence_spm) }))));

  // ------------------------------------------------------------------ splits
  let splitUnit = S.state.imperial ? "mile" : "km";
  function drawSplits() {
    const list = splitUnit === "km" ? run.splits_km : run.splits_mile;
    const perUnit = splitUnit === "km" ? 1 : S.KM_PER_MI;
    const unit = splitUnit === "km" ? t("/km") : t("/mi");
    $("#splits tbody").replaceChildren(...list.map((s) =>
      el("tr", {},
        el("td", { text: S.num(s.index + 1) }),
        el("td", { class: "num", text: S.distance(s.distance_m) }),
        el("td", { class: "num", text: S.clock(s.time_s) }),
        el("td", { class: "num", text: s.pace_s_per_km ? S.clock(s.pace_s_per_km * perUnit) + " " + unit : "–" }),
        el("td", { class: "num", text: S.num(s.avg_cadence_spm) }))));
    for (const b of $$("[data-split]")) b.setAttribute("aria-pressed", String(b.dataset.split === splitUnit));
  }
  for (const b of $$("[data-split]")) b.addEventListener("click", () => { splitUnit = b.dataset.split; drawSplits(); });
  drawSplits();

  // ------------------------------------------------------------------ best efforts
  $("#no-efforts").hidden = run.efforts.length > 0;
  $("#efforts tbody").replaceChildren(...run.efforts.map((e) =>
    el("tr", {},
      el("th", { scope: "row", text: S.distanceName(e.distance_m) }),
      el("td", { class: "num", text: S.clock(e.time_s) }),
      el("td", { class: "num", text: S.pace((1000 * e.time_s) / e.distance_m) }))));

  // ------------------------------------------------------------------ achievements of this run
  try {
    const all = await api("/api/achievements", { query: { locale: S.CONFIG.locale } });
    const mine = all.flatMap((a) => a.earned.filter((w) => w.run_id === run.id));
    $("#no-awards").hidden = mine.length > 0;
    $("#awards").replaceChildren(...mine.map((w) =>
      el("li", {}, el("div", { class: "badge earned" },
        S.medal(w.achievement_id),
        el("h3", { text: w.name }),
        el("p", { text: w.description })))));
  } catch (e) {
    $("#no-awards").hidden = false;
  }

  // ------------------------------------------------------------------ export and delete
  $("#export-gpx").hidden = !run.route;
  for (const link of $$("#export a[data-format]")) {
    const format = link.dataset.format;
    link.href = "/api/runs/" + encodeURIComponent(run.id) + "/export?format=" + format;
    link.setAttribute("download", "soleware-" + run.id.slice(0, 8) + "." + format); // the server's name wins
    link.dataset.authDownload = "";
    link.addEventListener("click", () => { $("#export").open = false; });
  }
  const menu = $("#export");
  document.addEventListener("click", (ev) => { if (menu.open && !menu.contains(ev.target)) menu.open = false; });
  menu.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && menu.open) {
      menu.open = false;
      $("summary", menu).focus();
    }
  });
  const dialog = $("#confirm-delete");
  $("#delete").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await api("/api/runs/" + encodeURIComponent(run.id), { method: "DELETE" });
      if (window.caches) {
        const cache = await caches.open("soleware-api");
        for (const req of await cache.keys()) if (new URL(req.url).pathname.startsWith("/api/runs")) await cache.delete(req);
      }
      location.assign("/runs");
    } catch (e) {
      S.fail(e);
    }
  });
});

/** The route as a polyline scaled to its box: fixes within GOOD_FIX_M (all when the route has no accuracies, or
 *  fewer than two are that good) projected on a plane tangent at the route's middle, metres east and south. */
const GOOD_FIX_M = 20;
function drawRoute(route) {
  const S = Soleware;
  const { $, t } = S;
  const n = route.t_s.length;
  const acc = route.accuracy_m;
  let keep = [...Array(n).keys()];
  if (acc) {
    const good = keep.filter((i) => acc[i] <= GOOD_FIX_M);
    if (good.length >= 2) keep = good;
  }
  const lats = keep.map((i) => route.lat_deg[i]);
  const lons = keep.map((i) => route.lon_deg[i]);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const lon0 = lons[0];
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const xs = lons.map((lon) => ((((lon - lon0 + 540) % 360) - 180) * rad) * R * Math.cos(lat0 * rad));
  const ys = lats.map((lat) => -(lat - lat0) * rad * R);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const size = Math.max(maxX - minX, maxY - minY, 50);
  const pad = 0.06 * size;
  const svg = $("#route");
  svg.setAttribute("viewBox", [minX - pad, minY - pad, maxX - minX + 2 * pad, maxY - minY + 2 * pad].map((v) => v.toFixed(1)).join(" "));
  const NS = "http://www.w3.org/2000/svg";
  const node = (name, attrs) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const line = node("polyline", {
    points: xs.map((x, i) => x.toFixed(1) + "," + ys[i].toFixed(1)).join(" "),
    fill: "none", stroke: S.PALETTE[0], "stroke-width": "3", "stroke-linejoin": "round", "stroke-linecap": "round",
    "vector-effect": "non-scaling-stroke",
  });
  const r = (0.025 * size).toFixed(1);
  const last = xs.length - 1;
  const start = node("circle", { cx: xs[0].toFixed(1), cy: ys[0].toFixed(1), r, fill: S.PALETTE[2] });
  const end = node("circle", { cx: xs[last].toFixed(1), cy: ys[last].toFixed(1), r, fill: S.PALETTE[1] });
  start.append(node("title", {}));
  start.firstChild.textContent = t("Start");
  end.append(node("title", {}));
  end.firstChild.textContent = t("Finish");
  svg.replaceChildren(line, start, end);
  const sorted = acc ? [...acc].sort((a, b) => a - b) : [];
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  $("#route-text").textContent = median === null
    ? t("{n} phone positions. Start green, finish red.", { n: S.num(n) })
    : t("{n} phone positions, typically accurate to {m} m. Start green, finish red.", { n: S.num(n), m: S.num(median) });
  $("#route-section").hidden = false;
}
