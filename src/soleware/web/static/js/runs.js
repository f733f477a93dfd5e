/* Runs: a list paged with next_cursor ("Show more" and infinite scroll), filters, a month calendar, and importing
   files (activity files from other apps, or the shoes' raw recordings) with a result per file. */
"use strict";

Soleware.ready((me) => {
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
          text: [S.date(r.start_time, { timeZone: r.time_zone, withTime: true }), S.clock(r.moving_time_s), S.pace(pace), ...(r.sensor ? [S.sensorLabel(r.sensor)] : []),
            ...(r.source === "manual" ? [t("entered by hand")] : [])].join(" · "),
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

  // ------------------------------------------------------------------ a run entered by hand
  /** Refused faster than this (m/s), as the service does: a distance typed in the wrong unit. */
  const MANUAL_MAX_SPEED_MPS = 11;
  const manualBox = $("#manual-box");
  const manual = $("#manual");
  const addRun = $("#add-run");
  const pad = (n) => String(n).padStart(2, "0");
  let correcting = null; // the run entered by hand this entry corrects (?edit=id)
  function showManual(open) {
    manualBox.hidden = !open;
    addRun.setAttribute("aria-expanded", String(open));
    if (!open) { addRun.focus(); return; }
    const hourAgo = new Date(Date.now() - 3600_000);
    if (!manual.date.value) manual.date.value = `${hourAgo.getFullYear()}-${pad(hourAgo.getMonth() + 1)}-${pad(hourAgo.getDate())}`;
    if (!manual.time.value) manual.time.value = `${pad(hourAgo.getHours())}:${pad(hourAgo.getMinutes())}`;
    $("#manual-error").textContent = "";
    manual.distance.focus();
    return fillShoes();
  }
  async function fillShoes() {
    let shoes = [];
    try { shoes = (await api("/api/shoes")).filter((x) => !x.retired); } catch { return; }
    const select = $("#m-shoe");
    select.replaceChildren(select.options[0], ...shoes.map((x) => el("option", { value: x.serial, text: x.name || x.serial })));
    $("#m-shoe-field").hidden = !shoes.length;
  }
  addRun.addEventListener("click", () => (manualBox.hidden ? showManual(true) : closeManual()));
  /** The form filled with a run entered by hand, to correct it (the run page's "Correct it"). */
  async function correct(id) {
    let r;
    try { r = await api("/api/runs/" + encodeURIComponent(id)); } catch (e) { S.fail(e); return; }
    if (r.source !== "manual") return;
    correcting = r.id;
    const start = new Date(r.start_time);
    manual.date.value = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`;
    manual.time.value = `${pad(start.getHours())}:${pad(start.getMinutes())}`;
    manual.distance.value = String(Math.round(S.distValue(r.distance_m) * 100) / 100);
    const s = Math.round(r.moving_time_s);
    [manual.hours.value, manual.minutes.value, manual.seconds.value] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map(String);
    manual.title.value = r.title;
    $("#h-manual").textContent = t("Correct a run entered by hand");
    $("#manual-save").textContent = t("Save");
    await showManual(true);
    if (r.shoe_serials.length) manual.shoe.value = r.shoe_serials[0];
  }
  const editing = new URLSearchParams(location.search).get("edit");
  if (editing) correct(editing);
  manual.addEventListener("input", () => { $("#manual-error").textContent = ""; });
  const addTexts = [$("#h-manual").textContent, $("#manual-save").textContent];
  /** Closed by Cancel or the "Add a run" button alike: a correction under way is dropped with what was typed. */
  function closeManual() {
    correcting = null;
    [$("#h-manual").textContent, $("#manual-save").textContent] = addTexts;
    manual.reset();
    showManual(false);
  }
  $("#manual-cancel").addEventListener("click", closeManual);
  manual.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#manual-error");
    const say = (text, field) => { error.textContent = text; if (field) field.focus(); };
    const [y, mo, d] = manual.date.value.split("-").map(Number);
    const [hh, mm] = manual.time.value.split(":").map(Number);
    const start = new Date(y, mo - 1, d, hh, mm);
    const distance = Number(manual.distance.value) * (S.state.imperial ? S.M_PER_MI : 1000);
    const duration = 3600 * Number(manual.hours.value || 0) + 60 * Number(manual.minutes.value || 0) + Number(manual.seconds.value || 0);
    if (!manual.date.value || !manual.time.value || Number.isNaN(start.getTime())) return say(t("Give the day and time the run started."), manual.date);
    if (!(distance > 0)) return say(t("Give the distance you ran."), manual.distance);
    if (!(duration > 0)) return say(t("Give the time you ran for."), manual.minutes);
    if (start.getTime() > Date.now()) return say(t("That start is still to come: give the day and time the run started."), manual.date);
    if (distance / duration > MANUAL_MAX_SPEED_MPS) return say(t("That is faster than anyone runs: check the distance and the time."), manual.distance);
    error.textContent = "";
    const body = {
      start_time: start.toISOString(),
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || me.time_zone || "UTC",
      distance_m: distance,
      duration_s: duration,
      title: manual.title.value.trim(),
      shoe_serials: manual.shoe.value ? [manual.shoe.value] : [],
    };
    $("#manual-save").disabled = true;
    try {
      const res = await api("/api/runs/manual", { method: "POST", body, query: { replaces: correcting } });
      location.href = "/runs/" + encodeURIComponent(res.run_id);
    } catch (e) {
      say(e.message || String(e));
    } finally {
      $("#manual-save").disabled = false;
    }
  });

  // ------------------------------------------------------------------ import
  const RECORDING = /\.(csv|json)$/i;
  const BATCH_BYTES = 24 * 1024 * 1024; // well under the server's request limit
  const importButton = $("#import");
  const picker = $("#import-files");
  let importing = false;
  importButton.addEventListener("click", () => { if (!importing) picker.click(); });
  $("#import-close").addEventListener("click", () => {
    $("#import-box").hidden = true;
    importButton.focus();
  });
  picker.addEventListener("change", () => {
    const files = Array.from(picker.files || []);
    picker.value = "";
    if (files.length) importFiles(files);
  });

  /** Raw recordings as runs: the CSVs of one run (one per foot, paired by name: "x_left.csv" + "x_right.csv")
      with their "x.json" sidecars. */
  function recordingGroups(files) {
    const stem = (f) => f.name.replace(/\.[^.]*$/, "");
    const key = (f) => stem(f).toLowerCase().replace(/(^|[-_. ])(left|right|l|r)(?=$|[-_. ])/g, "$1").replace(/[-_. ]+$/, "");
    const csvs = files.filter((f) => /\.csv$/i.test(f.name));
    const jsons = files.filter((f) => /\.json$/i.test(f.name));
    const byKey = new Map();
    for (const f of csvs) {
      const k = key(f);
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k).push(f);
    }
    const groups = [];
    for (const list of byKey.values()) {
      if (list.length <= 2) groups.push(list);
      else for (const f of list) groups.push([f]);
    }
    const used = new Set();
    const out = groups.map((g) => {
      const stems = new Set(g.map(stem));
      const sidecars = jsons.filter((j) => stems.has(stem(j)));
      for (const j of sidecars) used.add(j);
      return { csvs: g, sidecars };
    });
    const orphans = jsons.filter((j) => !used.has(j));
    return { groups: out, orphans };
  }

  /** The recording's duration from its first and last time stamps (column "t"), or 0 when unreadable. */
  async function durationS(file) {
    try {
      const head = await file.slice(0, 4096).text();
      const lines = head.split(/\r?\n/);
      const col = lines[0].split(",").map((c) => c.trim()).indexOf("t");
      const first = Number((lines[1] || "").split(",")[col]);
      const tail = (await file.slice(Math.max(0, file.size - 4096)).text()).trim().split(/\r?\n/);
      const last = Number(tail[tail.length - 1].split(",")[col]);
      return col >= 0 && Number.isFinite(first) && Number.isFinite(last) && last > first ? last - first : 0;
    } catch {
      return 0;
    }
  }

  async function importRecording({ csvs, sidecars }) {
    const name = csvs.map((f) => f.name).join(" + ");
    const form = new FormData();
    for (const f of [...csvs, ...sidecars]) form.append("files", f, f.name);
    // the files were last written when the recording stopped: it started that long before
    const ended = Math.max(...csvs.map((f) => f.lastModified || Date.now()));
    const started = new Date(ended - 1000 * Math.max(...(await Promise.all(csvs.map(durationS)))));
    const zone = (me && me.time_zone) || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    form.append("start_time", S.isoInZone(started, zone));
    form.append("time_zone", zone);
    try {
      const res = await api("/api/runs/recording", { method: "POST", form });
      return [{ name, status: res.created ? "imported" : "duplicate", run_id: res.run_id, reason: "" }];
    } catch (e) {
      if (e.status === 401) throw e;
      return [{ name, status: "rejected", run_id: null, reason: e.message }];
    }
  }

  async function importActivities(files) {
    const batches = [];
    let batch = [];
    let size = 0;
    for (const f of files) {
      if (batch.length && size + f.size > BATCH_BYTES) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(f);
      size += f.size;
    }
    if (batch.length) batches.push(batch);
    const out = [];
    for (const b of batches) {
      const form = new FormData();
      for (const f of b) form.append("files", f, f.name);
      try {
        out.push(...(await api("/api/runs/import", { method: "POST", form })).files);
      } catch (e) {
        if (e.status === 401) throw e;
        out.push(...b.map((f) => ({ name: f.name, status: "rejected", run_id: null, reason: e.message })));
      }
    }
    return out;
  }

  const STATUS_TEXT = {
    imported: () => t("Imported"),
    duplicate: () => t("Already there"),
    rejected: () => t("Rejected"),
  };

  /** Why the service refused a file, or what it could not read of one it imported (cut short), by the kind of
      problem it names (``code``; ``params`` fill it in), in the runner's language; the service's own words
      (English, with every detail) for the rest and as a tooltip. */
  const REASON_TEXT = {
    empty: () => t("The file is empty."),
    too_large: (p) => t("The file is larger than the limit of {limit}.", p),
    unknown_format: (p) =>
      t("Not a FIT, TCX or GPX activity (the data looks like {looks_like}).", {
        looks_like: named(LOOKS_TEXT, p.looks_like),
      }),
    not_a_run: (p) => t("Not a run: the activity is {sport}.", { sport: sportNames(p.sport || "") }),
    not_an_activity: (p) => t("Not an activity: this FIT file holds {holds} data.", p),
    truncated: () => t("The file is cut short; export or copy it again."),
    cut_short: (p) => t("The file is cut short: imported up to {ends}, where it stops.", { ends: S.date(p.ends, { withTime: true }) }),
    corrupt: () => t("The file is damaged (its checksum does not match); export or copy it again."),
    damaged: () => t("The file is damaged and cannot be read; export or copy it again."),
    no_times: () => t("The activity has no times on its points."),
    no_date: () => t("The activity has no date: the watch's clock was not set."),
    too_few: () => t("The activity has too few timed points to make a run."),
    no_distance: () => t("The activity has neither a distance nor positions or a speed to measure one by."),
    partly_timed: (p) =>
      t("Only {timed} of the track's {points} points have a time: imported alone, they would drop the rest of its distance.", {
        timed: S.num(Number(p.timed)),
        points: S.num(Number(p.points)),
      }),
    implausible: (p) => (IMPLAUSIBLE_TEXT[p.check] ? IMPLAUSIBLE_TEXT[p.check](p) : t("Not an activity on foot: {detail}.", p)),
    encrypted: () => t("The file is protected by a password; export or pack it again without one."),
    archive_too_large: (p) => t("The archive holds more than {limit} in all; import it in parts.", p),
    nested_archive: () => t("Archives inside archives are not opened; unpack it first."),
    archive_cut_short: (p) => t("The archive is cut short (a download broken off?): its first {read} files were read, the rest is missing; download it again for the rest.", { read: S.num(Number(p.read)) }),
    not_activity_file: () => t("Not an activity file: import FIT, TCX or GPX files (also .gz), or a zip of them."),
    unsafe: (p) => (p.kind === "entities"
      ? t("The file declares XML entities (a DOCTYPE), which no activity file does; it is not read.")
      : t("The file expands far more than any activity file does (a possible decompression bomb); it is not read.")),
  };

  /** ``p`` with its ``value`` (a time the service gives as ISO 8601) as the runner reads dates. */
  const dated = (p) => ({ ...p, value: S.date(p.value, { withTime: true }) });
  /** Which of its values no activity on foot has (``check_plausible`` in soleware.formats), in the runner's language. */
  const IMPLAUSIBLE_TEXT = {
    start: (p) => t("Not an activity on foot: it starts on {value}, before {limit} (the watch's clock was not set?).", dated(p)),
    end: (p) => t("Not an activity on foot: it ends on {value}, in the future.", dated(p)),
    elapsed: (p) => t("Not an activity on foot: it lasts {value}, longer than {limit}.", p),
    distance: (p) => t("Not an activity on foot: its distance of {value} is longer than {limit}.", p),
    speed: (p) => t("Not an activity on foot: its average speed of {value} is faster than {limit}.", p),
    stretch: (p) => t("Not an activity on foot: one stretch of it goes at {value}, faster than {limit}.", p),
  };

  /** What the service says a refused file's data looks like (``sniff`` in soleware.formats), in the runner's language. */
  const LOOKS_TEXT = {
    fit: () => t("a FIT file"),
    tcx: () => t("a TCX file"),
    gpx: () => t("a GPX file"),
    gzip: () => t("gzip data"),
    xml: () => t("XML of another kind"),
    "unknown data": () => t("unknown data"),
    "a PNG image": () => t("a PNG image"),
    "a JPEG image": () => t("a JPEG image"),
    "a GIF image": () => t("a GIF image"),
    "a PDF document": () => t("a PDF document"),
    "a zip archive": () => t("a zip archive"),
  };

  /** The sports other apps name that are no run (FIT's, TCX's "Biking"), in the runner's language. */
  const SPORT_TEXT = {
    cycling: () => t("cycling"),
    Biking: () => t("cycling"),
    swimming: () => t("swimming"),
    transition: () => t("transition"),
    rowing: () => t("rowing"),
    indoor_rowing: () => t("indoor rowing"),
    strength_training: () => t("strength training"),
  };
  /** ``key`` in the runner's language where ``table`` knows it, else as the service said it. */
  const named = (table, key) => (table[key] ? table[key]() : key);
  const sportNames = (list) => list.split(", ").map((x) => named(SPORT_TEXT, x)).join(", ");

  function resultItem(r) {
    const part = r.status === "imported" && r.reason;
    const label = el("span", { class: "status", text: part ? t("Imported in part") : STATUS_TEXT[r.status]() });
    const name = r.run_id
      ? el("a", { href: "/runs/" + encodeURIComponent(r.run_id), class: "name", text: r.name })
      : el("span", { class: "name", text: r.name });
    let reason = null;
    if ((r.status === "rejected" || r.status === "imported") && r.reason) {
      const text = REASON_TEXT[r.code] ? REASON_TEXT[r.code](r.params || {}) : r.reason;
      reason = el("span", { class: "reason", text, title: r.reason, "data-code": r.code || "" });
    }
    return el("li", { "data-status": r.status }, label, name, reason);
  }

  async function importFiles(files) {
    const box = $("#import-box");
    importing = true;
    importButton.setAttribute("aria-disabled", "true"); // not disabled: that would take the focus away
    $("#import-results").replaceChildren();
    $("#import-summary").textContent = "";
    if (box.hidden) {
      box.hidden = false;
      await new Promise((r) => setTimeout(r, 100)); // let screen readers see the live region before it speaks
    }
    $("#import-summary").textContent = t("Importing {n} files…", { n: S.num(files.length) });
    try {
      const recordings = recordingGroups(files.filter((f) => RECORDING.test(f.name)));
      const results = await importActivities(files.filter((f) => !RECORDING.test(f.name)));
      for (const g of recordings.groups) results.push(...(await importRecording(g)));
      for (const j of recordings.orphans) {
        results.push({ name: j.name, status: "rejected", run_id: null, reason: t("No .csv recording with the same name.") });
      }
      const count = (st) => results.filter((r) => r.status === st).length;
      $("#import-summary").textContent = t("{imported} imported, {duplicates} already there, {rejected} rejected.", {
        imported: S.num(count("imported")), duplicates: S.num(count("duplicate")), rejected: S.num(count("rejected")),
      });
      $("#import-results").replaceChildren(...results.map(resultItem));
      if (count("imported")) {
        await reset();
        if (!$("#cal-view").hidden) await drawCalendar();
      }
    } catch (e) {
      $("#import-summary").textContent = e.message;
    } finally {
      importing = false;
      importButton.removeAttribute("aria-disabled");
      box.dataset.done = String(Number(box.dataset.done || 0) + 1);
    }
  }

  async function noteRefused() {
    const { refused } = await api("/api/refused-uploads");
    const note = $("#refused-note");
    note.hidden = refused.length === 0;
    note.firstElementChild.textContent = t("Runs the service refused: {n}. See why and send them again.", { n: S.num(refused.length) });
  }

  noteRefused().catch(S.fail);
  return reset();
});
