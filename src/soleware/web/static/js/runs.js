/* Runs: a list paged with next_cursor ("Show more" and infinite scroll), filters, and a month calendar. */
"use strict";

Soleware.ready(() => {
  const S = Soleware;
  const { $, el, t, api } = S;
  const PAGE = 20;
  let cursor = null;
  let loading = false;
  let filters = {};
  let shown = 0;

  const runTitle = S.runTitle;

  function item(r) {
    const pace = r.distance_m > 0 ? (1000 * r.moving_time_s) / r.distance_m : null;
    return el("li", {},
      el("a", { href: "/runs/" + encodeURIComponent(r.id) },
        el("span", { class: "title", text: runTitle(r) }),
        el("span", { class: "dist", text: S.distance(r.distance_m) }),
        el("span", {
          class: "meta",
          text: [S.date(r.start_time, { timeZone: r.time_zone, withTime: true }), S.clock(r.moving_time_s), S.pace(pace)].join(" · "),
        }),
      ),
    );
  }

  async function loadMore() {
    if (loading) return;
    loading = true;
    $("#more").disabled = true;
    try {
      const page = await api("/api/runs", { query: { limit: PAGE, cursor, ...filters } });
      const list = $("#runs");
      for (const r of page.runs) list.append(item(r));
      shown += page.runs.length;
      cursor = page.next_cursor;
      $("#more").hidden = !cursor;
      $("#empty").hidden = shown > 0;
      $("#count").textContent = shown ? t("{n} runs shown", { n: S.num(shown) }) : "";
    } catch (e) {
      S.fail(e);
    } finally {
      loading = false;
      $("#more").disabled = false;
    }
  }

  function reset() {
    cursor = null;
    shown = 0;
    $("#runs").replaceChildren();
    return loadMore();
  }

  const toMetres = (v) => (v === "" ? undefined : Number(v) * (S.state.imperial ? S.M_PER_MI : 1000));
  function localMidnight(value, addDays = 0) {
    if (!value) return undefined;
    const [y, m, d] = value.split("-").map(Number);
    return new Date(y, m - 1, d + addDays).toISOString();
  }

  const form = $("#filters");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    filters = {
      min_distance_m: toMetres(form.min.value),
      max_distance_m: toMetres(form.max.value),
      since: localMidnight(form.since.value),
      until: localMidnight(form.until.value, 1),
    };
    reset();
  });
  form.addEventListener("reset", () => {
    filters = {};
    setTimeout(reset, 0);
  });
  $("#more").addEventListener("click", loadMore);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && cursor && !loading) loadMore();
    }, { rootMargin: "200px" }).observe($("#sentinel"));
  }

  // ------------------------------------------------------------------ calendar
  const today = new Date();
  let month = new Date(today.getFullYear(), today.getMonth(), 1);

  async function runsBetween(since, until) {
    const out = [];
    let c = null;
    do {
      const page = await api("/api/runs", { query: { limit: 200, cursor: c, since: since.toISOString(), until: until.toISOString() } });
      out.push(...page.runs);
      c = page.next_cursor;
    } while (c);
    return out;
  }

  const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

  async function drawCalendar() {
    const first = new Date(month);
    const next = new Date(month.getFullYear(), month.getMonth() + 1, 1);
    $("#cal-title").textContent = new Intl.DateTimeFormat(S.CONFIG.lang, { year: "numeric", month: "long" }).format(first);
    let runs = [];
    try { runs = await runsBetween(first, next); } catch (e) { S.fail(e); }
    const byDay = new Map();
    for (const r of runs) {
      const k = dayKey(new Date(r.start_time));
      if (!byDay.has(k)) byDay.set(k, []);
      byDay.get(k).push(r);
    }
    const offset = (first.getDay() + 6) % 7; // Monday first
    const start = new Date(first.getFullYear(), first.getMonth(), 1 - offset);
    const body = $("#cal tbody");
    body.replaceChildren();
    const weeks = Math.ceil((offset + new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate()) / 7);
    for (let w = 0; w < weeks; w++) {
      const row = el("tr");
      for (let d = 0; d < 7; d++) {
        const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + w * 7 + d);
        const inMonth = day.getMonth() === first.getMonth();
        const cls = [inMonth ? "" : "out", dayKey(day) === dayKey(today) ? "today" : ""].join(" ").trim();
        const cell = el("td", { class: cls || null }, el("span", { class: "day", text: S.num(day.getDate()) }));
        for (const r of byDay.get(dayKey(day)) || []) {
          cell.append(el("a", {
            href: "/runs/" + encodeURIComponent(r.id),
            text: S.num(S.distValue(r.distance_m), 1),
            "aria-label": runTitle(r) + ", " + S.distance(r.distance_m),
          }));
        }
        row.append(cell);
      }
      body.append(row);
    }
    const total = runs.reduce((a, r) => a + r.distance_m, 0);
    $("#cal-total").textContent = t("{n} runs, {d} this month", { n: S.num(runs.length), d: S.distance(total, 1) });
  }

  $("#cal-prev").addEventListener("click", () => { month = new Date(month.getFullYear(), month.getMonth() - 1, 1); drawCalendar(); });
  $("#cal-next").addEventListener("click", () => { month = new Date(month.getFullYear(), month.getMonth() + 1, 1); drawCalendar(); });

  function view(which) {
    $("#show-list").setAttribute("aria-pressed", String(which === "list"));
    $("#show-cal").setAttribute("aria-pressed", String(which === "cal"));
    $("#list-view").hidden = which !== "list";
    $("#cal-view").hidden = which !== "cal";
    if (which === "cal") drawCalendar();
  }
  $("#show-list").addEventListener("click", () => view("list"));
  $("#show-cal").addEventListener("click", () => view("cal"));

  return reset();
});
