/* The phone as the gateway: pair shoes or any RSC pod over Web Bluetooth, show the run live with no server,
   keep the finished run in IndexedDB and upload it when the phone is online (retried with back-off while the page
   is open, and by the service worker's Background Sync once it is closed). */
"use strict";

(() => {
  const S = window.Soleware;
  const B = window.SolewareBle;
  const L = window.SolewareRunLog;
  const O = window.SolewareOutbox;
  const { $, t } = S;
  const KNOWN = "soleware.sensors";
  const RETRY_MAX_MS = 5 * 60 * 1000;
  const MOVING_MPS = 0.5;
  const PAIR_WINDOW_S = 120; // as the Python gateway pairs the feet, and the run service finds a duplicate
  const SINGLE_FOOT_AFTER_S = 30; // as the gateway: how long one foot's log run waits for the other foot's

  // ------------------------------------------------------------------ storage (IndexedDB, see outbox.js)
  const { db, tx, txn, req, outboxAll, exclusive } = O;
  /** Run-log records, resolved once the transaction has committed: only then are they acknowledged. */
  const logPut = (serial, records) =>
    tx("readwrite", (s) => { for (const [seq, payload] of records) s.put({ serial, seq, payload }); return {}; }, "log");
  const logRange = (serial) => IDBKeyRange.bound([serial, 0], [serial, B.NO_SEQ]);
  const logCount = (serial) => tx("readonly", (s) => s.count(logRange(serial)), "log");
  async function logLastSeq(serial) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const req = d.transaction("log").objectStore("log").openCursor(logRange(serial), "prev");
      req.onsuccess = () => resolve(req.result ? req.result.value.seq : -1);
      req.onerror = () => reject(req.error);
    });
  }

  // ------------------------------------------------------------------ run log sync
  /** Copy the shoe's unacknowledged run log into IndexedDB, resuming after the last record stored, and
      acknowledge to the shoe only what has been committed. */
  async function syncShoe(sensor) {
    const client = new B.RunLogClient(sensor);
    await client.open();
    const runs = await client.listRuns();
    if (!runs.length) return 0;
    const first = Math.min(...runs.map((r) => r.first_seq));
    const last = Math.max(...runs.map((r) => r.last_seq));
    const from = Math.max(first, (await logLastSeq(sensor.serial)) + 1);
    let received = 0;
    if (from <= last) {
      const shown = $("#sync-state");
      received = (await client.read(from, last - from + 1, async (records) => {
        await logPut(sensor.serial, records);
        shown.dataset.records = String(Number(shown.dataset.records || 0) + records.length);
      })).received;
    }
    if ((await logLastSeq(sensor.serial)) >= last) await client.ack(last);
    return received;
  }

  async function syncAll() {
    const state = $("#sync-state");
    const shoes = [...sensors.values()].filter((s) => s.kind === "shoe" && s.state === "connected");
    if (!shoes.length) { state.textContent = t("Connect your shoes to sync their run logs."); return; }
    state.dataset.state = "syncing";
    state.dataset.records = "0";
    state.textContent = t("Syncing…");
    $("#sync").disabled = true;
    try {
      // both shoes at once, as the Python gateway does: each link's round trips overlap the other's
      const results = await Promise.allSettled(shoes.map(syncShoe));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      const n = results.reduce((a, r) => a + r.value, 0);
      const stored = (await Promise.all(shoes.map((s) => logCount(s.serial)))).reduce((a, x) => a + x, 0);
      state.dataset.state = "done";
      state.dataset.stored = String(stored);
      state.textContent = t("Synced: {n} new records, {total} on this phone.", { n: S.num(n), total: S.num(stored) });
      await queueLogRuns();
      upload();
    } catch (e) {
      state.dataset.state = "failed";
      state.textContent = e.message === "pairing"
        ? t("The run log needs the shoe to be paired with this phone. Accept the pairing request, then sync again; if you refused it, nothing was copied.")
        : t("Sync stopped: {why}. What was copied is kept; the next sync goes on from there.", { why: e.message });
    } finally {
      $("#sync").disabled = false;
    }
  }

  /** One foot's log runs held back for the other foot's log: upload key → Date.now() when first seen complete. */
  const oneFootSince = new Map();
  let oneFootTimer = null;

  /** The sides of the shoes paired on this phone, now or at an earlier visit. */
  function shoeSides() {
    const shoes = [...remembered(), ...[...sensors.values()].map((s) => s.toJSON())].filter((s) => s.kind === "shoe" && s.side);
    return new Set(shoes.map((s) => s.side));
  }

  /** Put every complete run of the synced logs, not yet uploaded, into the outbox as the Python gateway would
      send it (both feet in one body), keyed by the runs' log identity so a later sync or reload puts the same
      item. It replaces the live upload of the same outing, whose strides may miss those sent while a link was
      down; the route recorded live goes with it. With two shoes paired, one foot's run waits
      SINGLE_FOOT_AFTER_S for the other foot's, as the gateway's does, and then goes alone (the run service adds
      the other foot when it comes). */
  function queueLogRuns() {
    return exclusive(async () => {
      const records = (await tx("readonly", (s) => s.getAll(), "log")).filter((r) => !r.uploaded && !r.refused);
      const bySerial = new Map();
      for (const r of records) {
        if (!bySerial.has(r.serial)) bySerial.set(r.serial, []);
        bySerial.get(r.serial).push([r.seq, r.payload]);
      }
      const runs = [];
      for (const [serial, recs] of bySerial) for (const run of L.runsIn(recs).values()) runs.push({ serial, run });
      const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      const feetWanted = Math.min(2, shoeSides().size);
      let waitMs = Infinity;
      let waiting = 0;
      for (const feet of L.groupRuns(runs, PAIR_WINDOW_S)) {
        if (Object.keys(feet).length < feetWanted) {
          const key = L.uploadKey(feet);
          if (!oneFootSince.has(key)) oneFootSince.set(key, Date.now());
          const left = oneFootSince.get(key) + SINGLE_FOOT_AFTER_S * 1000 - Date.now();
          if (left > 0) {
            waitMs = Math.min(waitMs, left);
            waiting += 1;
            continue;
          }
        }
        const body = L.runUploadBody(feet, timeZone);
        const startMs = Date.parse(body.start_time);
        await txn(["outbox", "outings"], async (x) => {
          const outings = await req(x.objectStore("outings").getAll(IDBKeyRange.bound(startMs - PAIR_WINDOW_S * 1000, startMs + PAIR_WINDOW_S * 1000)));
          outings.sort((a, b) => Math.abs(a.start_ms - startMs) - Math.abs(b.start_ms - startMs));
          const outing = outings[0];
          if (outing && outing.route) {
            // The live route on the logged run's clock. The shoes' run starts at the first lift, which may come
            // after the phone started its own: the fixes before it (the runner standing at the start) give way
            // to the last of them, at 0 s, as the service takes no fix before a run's start.
            const t = outing.route.t_s.map((t_s) => t_s + (outing.start_ms - startMs) / 1000);
            const from = Math.max(0, t.findLastIndex((x) => x < 0));
            body.route = Object.fromEntries(Object.entries(outing.route).map(([k, v]) => [k, v === null ? null : v.slice(from)]));
            body.route.t_s = t.slice(from).map((x) => Math.max(0, x));
          }
          if (outing && outing.lap_marks && outing.lap_marks.length) {
            // the laps pressed live, on the logged run's clock as the route is; they still span the whole run
            const shift = (outing.start_ms - startMs) / 1000;
            const end = Math.max(...body.strides.map((s) => s.t_end_s));
            body.laps = lapsBetween(outing.lap_marks.map((m) => m + shift), end);
          }
          if (outing && outing.key) x.objectStore("outbox").delete(outing.key);
          x.objectStore("outbox").put({
            key: "log|" + L.uploadKey(feet),
            body,
            tries: 0,
            log: Object.values(feet).map(([serial, r]) => [serial, r.first_seq, r.last_seq]),
            replaces: outing ? outing.run_id : null,
            outing: outing ? outing.start_ms : null,
          });
        });
      }
      $("#stored").dataset.waiting = String(waiting);
      clearTimeout(oneFootTimer);
      if (waiting) oneFootTimer = setTimeout(() => queueLogRuns().then(upload), waitMs + 50);
      await showOutbox();
    });
  }

  // ------------------------------------------------------------------ run state
  const sensors = new Map();
  const run = {
    state: "idle", // idle | running | paused | finished
    startedAt: null, // Date of the start
    movingMs: 0,
    resumedAt: null, // performance.now() of the last (re)start
    feet: { left: [], right: [] },
    firstStride: {}, // side → [shoe t_end_s, run t_s] of the first stride, to put shoe times on the run clock
    samples: [], // pod: [t_s, speed, cadence, stride length, total distance]
    route: [],
    laps: [], // the runner's lap presses: { t_s, moving_s, distance_m } each, t_s on the page's clock
    clockAhead: 0, // how far the live strides' clock runs ahead of the page's (s)
    distanceFrom: {}, // sensor id → total distance at the start
    distance: {}, // sensor id → metres since the start
    lastRsc: {},
    lastSampleAt: null,
    autoStart: true,
    heldByButton: false, // paused with the button: the shoes' strides do not resume it
    phone: false, // started with no shoes or pod connected: the phone measures the run itself (see phoneRun)
  };
  let wakeLock = null;
  let geoWatch = null;
  let lastFix = null; // [lat, lon, accuracy, altitude] of the latest fix, for the start of a run

  const runT = () => (run.startedAt ? (Date.now() - run.startedAt.getTime()) / 1000 : 0);
  /** Metres between two positions on the Earth (a sphere of the mean radius), as the run service measures routes. */
  function haversineM(lat1, lon1, lat2, lon2) {
    const r = Math.PI / 180;
    const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
  }
  const movingS = () => (run.movingMs + (run.state === "running" ? performance.now() - run.resumedAt : 0)) / 1000;

  function setState(state) {
    run.state = state;
    const text = {
      idle: navigator.bluetooth ? t("Waiting for the shoes…") : t("Ready"),
      running: t("Running"),
      paused: t("Paused"),
      finished: t("Run finished"),
    }[state];
    $("#run-state").textContent = text;
    $("#run-state").dataset.state = state;
    $("#start").disabled = state === "running";
    $("#start").textContent = state === "paused" ? t("Resume run") : t("Start run");
    $("#pause").disabled = state !== "running";
    $("#lap").disabled = !["running", "paused"].includes(state);
    $("#stop").disabled = !["running", "paused"].includes(state);
    holdScreen(state === "running");
  }

  async function holdScreen(on) {
    try {
      if (on && !wakeLock && navigator.wakeLock) {
        wakeLock = await navigator.wakeLock.request("screen");
        wakeLock.addEventListener("release", () => { wakeLock = null; });
      } else if (!on && wakeLock) {
        await wakeLock.release();
        wakeLock = null;
      }
    } catch { /* the screen may still dim: the run goes on */ }
  }

  function start() {
    if (run.state === "running") return;
    if (run.state === "idle" || run.state === "finished") {
      Object.assign(run, {
        startedAt: new Date(), movingMs: 0, feet: { left: [], right: [] }, firstStride: {}, samples: [], route: [],
        distanceFrom: {}, distance: {}, lastSampleAt: null, laps: [], clockAhead: 0,
        phone: ![...sensors.values()].some((x) => x.state === "connected"), phoneValues: null,
      });
      for (const [id, m] of Object.entries(run.lastRsc)) if (m.total_distance_m !== null) run.distanceFrom[id] = m.total_distance_m;
    }
    run.resumedAt = performance.now();
    if (run.phone) phoneRun.resume();
    setState("running");
    if (geoWatch !== null && lastFix) run.route.push([runT(), ...lastFix]);
  }

  /** The runner pressed Lap: the lap so far ends here and the next one starts. */
  function lap() {
    if (!["running", "paused"].includes(run.state)) return;
    const prev = run.laps.length ? run.laps[run.laps.length - 1] : { t_s: 0, moving_s: 0, distance_m: 0 };
    const mark = { t_s: runT(), moving_s: movingS(), distance_m: distanceNow() ?? 0 };
    run.laps.push(mark);
    keep(true);
    $("#lap-done").textContent = t("Lap {n}: {distance} in {time}", {
      n: S.num(run.laps.length), distance: S.distance(mark.distance_m - prev.distance_m), time: S.clock(mark.moving_s - prev.moving_s),
    });
    show();
  }

  /** Laps as the run service takes them, from the times of the presses (``marks``) on the run's clock: none
      without a press, else one more than presses, from the run's start to ``end`` (the service cuts laps to the
      run); a press outside the run marks nothing. */
  function lapsBetween(marks, end) {
    const inside = marks.filter((m) => m > 0 && m < end);
    if (!inside.length) return [];
    const ends = [...inside, end];
    return ends.map((e, i) => ({ t_start_s: i ? ends[i - 1] : 0, t_end_s: e, name: "" }));
  }

  /** The live run's laps. Its strides' clock runs ahead of the page's by the first stride's report delay (that
      stride is placed as if it ended when it came): the presses go with the strides. The outing keeps them on the
      page's clock, on which the shoes' logged run that replaces it is placed. */
  function liveLaps() {
    const lastEnd = Math.max(0, ...[...run.feet.left, ...run.feet.right].map((s) => s.t_end_s));
    return lapsBetween(run.laps.map((m) => m.t_s + run.clockAhead), Math.max(runT() + run.clockAhead, lastEnd));
  }

  // ------------------------------------------------------------------ the phone alone
  /** A run started with no shoes or pod connected (shoes left at home, a browser without Web Bluetooth) is
      measured by the phone itself: the distance and speed from its position (good fixes only, the jitter of a
      standing phone left out), the cadence from its motion sensor (every step a peak of the acceleration). It
      goes up as a sensor's samples, once a second, like a pod's. */
  const phoneRun = (() => {
    const GOOD_FIX_M = 25; // worse fixes are left out of the distance
    const MIN_MOVE_M = 8; // a fix this far from the last one counted adds the way between them
    const MAX_MPS = 12; // a fix farther than this pace allows is a jump of the position, not of the runner
    const STEP_MIN_S = 0.25; // 240 steps/min at most
    const CADENCE_WINDOW_S = 10;
    let anchor = null; // the last fix counted: [lat, lon, t_s]
    let fixes = []; // [t_s, metres so far] of the fixes counted, for the speed over the last seconds
    let metres = 0;
    let motion = null; // the step detector's state
    let steps = [];
    let timer = null;
    let listening = false;

    function onFix(lat, lon, accuracy, t_s) {
      if (accuracy > GOOD_FIX_M) return;
      if (!anchor) { anchor = [lat, lon, t_s]; fixes.push([t_s, metres]); return; }
      const d = haversineM(anchor[0], anchor[1], lat, lon);
      if (d < MIN_MOVE_M || d > MAX_MPS * Math.max(1, t_s - anchor[2])) return;
      metres += d;
      anchor = [lat, lon, t_s];
      fixes.push([t_s, metres]);
      fixes = fixes.filter(([t]) => t >= t_s - 15);
    }
    function speed(t_s) {
      const recent = fixes.filter(([t]) => t >= t_s - 10);
      if (recent.length < 2 || t_s - recent[recent.length - 1][0] > 10) return 0;
      const [t0, d0] = recent[0];
      const [t1, d1] = recent[recent.length - 1];
      return t1 > t0 ? (d1 - d0) / (t1 - t0) : 0;
    }
    /** Steps from the size of the acceleration (gravity included, so the phone's attitude does not matter): its
        swing about a one-second mean, smoothed; a step is a peak above 60 % of its recent size (at least
        1 m/s²), at least STEP_MIN_S after the last. */
    function onMotion(e) {
      const a = e.accelerationIncludingGravity;
      if (!a || a.x === null) return;
      const t_s = e.timeStamp / 1000;
      const g = Math.hypot(a.x, a.y, a.z);
      if (!motion) { motion = { t: t_s, mean: g, y: 0, prev: 0, rising: false, power: 4 }; return; }
      const dt = Math.min(0.2, Math.max(0, t_s - motion.t));
      motion.t = t_s;
      motion.mean += (g - motion.mean) * Math.min(1, dt / 1.0);
      motion.y += (g - motion.mean - motion.y) * Math.min(1, dt / 0.03);
      motion.power += (motion.y * motion.y - motion.power) * Math.min(1, dt / 2.0);
      const threshold = Math.max(1, 0.6 * Math.sqrt(2 * motion.power));
      if (motion.rising && motion.y < motion.prev && motion.prev > threshold && (!steps.length || t_s - steps[steps.length - 1] >= STEP_MIN_S)) {
        steps.push(t_s);
        steps = steps.filter((x) => x >= t_s - CADENCE_WINDOW_S);
      }
      motion.rising = motion.y > motion.prev;
      motion.prev = motion.y;
    }
    function cadence() {
      const now = performance.now() / 1000;
      if (steps.length < 4 || now - steps[steps.length - 1] > 3) return null;
      return (60 * (steps.length - 1)) / (steps[steps.length - 1] - steps[0]);
    }
    function sample() {
      if (run.state !== "running" || !run.phone) return;
      const t_s = runT();
      const v = speed(t_s);
      const c = cadence();
      run.phoneValues = { speed_mps: v, cadence_spm: c };
      run.distance.phone = metres;
      run.samples.push([t_s, v, c, null, geoWatch !== null ? metres : null]);
      show();
    }
    return {
      onFix,
      /** The run goes on: listen again (a motion sensor may need the runner's consent, given in this click). */
      resume() {
        anchor = null; // the way walked while paused is not the run's
        if (!run.samples.length) { metres = 0; fixes = []; steps = []; motion = null; }
        if (!listening && "DeviceMotionEvent" in window) {
          const listen = () => { window.addEventListener("devicemotion", onMotion); listening = true; };
          if (typeof DeviceMotionEvent.requestPermission === "function") {
            DeviceMotionEvent.requestPermission().then((p) => { if (p === "granted") listen(); }).catch(() => {});
          } else listen();
        }
        if (geoWatch === null) { $("#gps").checked = true; watchPosition(true); }
        clearInterval(timer);
        timer = setInterval(sample, 1000);
      },
      stop() {
        clearInterval(timer);
        timer = null;
        if (listening) window.removeEventListener("devicemotion", onMotion);
        listening = false;
      },
      restore(kept) { metres = kept || 0; },
      get metres() { return metres; },
    };
  })();

  function pause() {
    if (run.state !== "running") return;
    run.movingMs += performance.now() - run.resumedAt;
    setState("paused");
    keep(true);
  }

  // ------------------------------------------------------------------ the run in progress, kept
  /** The run in progress is kept in the outings store as it goes (its start, route, laps, strides, a pod's
      samples, moving time and where each sensor's total distance stood at the start), so a page the browser
      dropped mid-run (a background tab closed, a reload) resumes it. Without that the page began a second run at
      the reload, one the shoes' logged run did not replace (it starts over two minutes later), and the route,
      laps and strides before the reload were lost: shoes without a run log (a foot pod) had nothing else. */
  const KEEP_EVERY_MS = 10_000;
  /** A run kept longer ago than this is over: its record stays as an outing for the logged run, not resumed. */
  const RESUME_WITHIN_MS = 30 * 60 * 1000;
  let keptKey = null;
  let keptAt = 0;
  async function keep(now = false) {
    if (!["running", "paused"].includes(run.state) || !run.startedAt) return;
    if (!now && Date.now() - keptAt < KEEP_EVERY_MS) return;
    keptAt = Date.now();
    const startMs = run.startedAt.getTime();
    const record = {
      start_ms: startMs, route: routeBody() ?? null, lap_marks: run.laps.map((m) => m.t_s), key: null, run_id: null,
      in_progress: {
        saved_ms: Date.now(), moving_ms: movingS() * 1000, laps: run.laps, distance_from: run.distanceFrom,
        feet: run.feet, samples: run.samples, clock_ahead: run.clockAhead, phone: run.phone, phone_m: phoneRun.metres,
      },
    };
    const stale = keptKey;
    keptKey = startMs;
    try {
      await tx("readwrite", (st) => { if (stale !== null && stale !== startMs) st.delete(stale); st.put(record); return {}; }, "outings");
    } catch { keptAt = 0; /* kept at the next chance */ }
  }

  /** At load: resume the run the page was keeping when it was dropped; an older one becomes a plain outing. */
  async function resume() {
    const kept = (await tx("readonly", (st) => st.getAll(), "outings")).filter((o) => o.in_progress);
    kept.sort((a, b) => b.in_progress.saved_ms - a.in_progress.saved_ms);
    const [last, ...older] = kept;
    const over = older.concat(last && Date.now() - last.in_progress.saved_ms > RESUME_WITHIN_MS ? [last] : []);
    if (over.length) {
      await tx("readwrite", (st) => { for (const o of over) { const { in_progress, ...outing } = o; st.put(outing); } return {}; }, "outings");
    }
    if (!last || over.includes(last)) return;
    const r = last.route;
    const was = last.in_progress;
    // the strides after the reload are placed on the page's clock afresh (firstStride): the shoes may have restarted
    Object.assign(run, {
      startedAt: new Date(last.start_ms), movingMs: was.moving_ms, feet: was.feet || { left: [], right: [] }, firstStride: {},
      samples: was.samples || [], route: r ? r.t_s.map((t_s, i) => [t_s, r.lat_deg[i], r.lon_deg[i], r.accuracy_m[i], r.altitude_m ? r.altitude_m[i] : null]) : [],
      distanceFrom: was.distance_from || {}, distance: {}, lastSampleAt: null, laps: was.laps || [], clockAhead: was.clock_ahead || 0,
      phone: Boolean(was.phone),
    });
    if (run.phone) { phoneRun.restore(was.phone_m); run.distance.phone = was.phone_m || 0; }
    for (const [side, list] of Object.entries(run.feet)) {
      const field = $(`.foot[data-side="${side}"] [data-field="strides"]`);
      if (field) field.textContent = S.num(list.length);
    }
    keptKey = last.start_ms;
    setState("paused"); // the shoes' next stride resumes it
    show();
  }

  async function finish() {
    if (run.state === "running") pause();
    if (run.state !== "paused") return;
    setState("finished");
    run.autoStart = false;
    if (run.phone) {
      phoneRun.stop();
      if (!uploadBodies().length) $("#lap-done").textContent = t("Nothing to upload: without shoes, the phone needs its position for the distance.");
    }
    const startMs = run.startedAt.getTime();
    // the run is no longer in progress: a shoes' run's outing takes its record's place below, a pod's has none
    if (keptKey !== null) await tx("readwrite", (st) => { st.delete(keptKey); return {}; }, "outings");
    keptKey = null;
    for (const body of uploadBodies()) {
      const key = body.start_time + "|" + body.title;
      const shoes = Boolean(body.strides);
      await txn(["outbox", "outings"], (x) => {
        x.objectStore("outbox").put({ key, body, tries: 0, live: shoes ? startMs : null });
        if (shoes) x.objectStore("outings").put({ start_ms: startMs, route: body.route ?? null, lap_marks: run.laps.map((m) => m.t_s), key, run_id: null });
      });
    }
    await showOutbox();
    upload();
  }

  // ------------------------------------------------------------------ values from the sensors
  /** Shoes or a pod came during a run the phone was measuring alone (the shoes reconnected after Start was
      pressed): they measure it from here on, and the phone's own samples give way (the shoes' logged run has
      all of it). */
  function sensorsTakeOver() {
    if (!run.phone || !["running", "paused"].includes(run.state)) return;
    phoneRun.stop();
    Object.assign(run, { phone: false, phoneValues: null, samples: [], lastSampleAt: null });
    delete run.distance.phone;
  }

  function onRsc(sensor, m) {
    sensorsTakeOver();
    run.lastRsc[sensor.id] = m;
    // after Finish the shoes are still running: the next run starts once they have stopped, or with Start
    // Only speed and cadence are mandatory in RSC: a sensor "moves" above a slow walk, "stops" at 0 m/s.
    const moving = m.speed_mps > MOVING_MPS;
    if (m.speed_mps === 0) {
      if (run.state === "finished") run.autoStart = true;
      run.heldByButton = false;
      if (run.state === "running") pause();
    }
    if (moving && !run.heldByButton && (run.state === "idle" || run.state === "paused" || (run.state === "finished" && run.autoStart))) start();
    if (run.state === "running") {
      const t_s = runT();
      if (m.total_distance_m !== null) {
        run.distanceFrom[sensor.id] ??= m.total_distance_m;
        let d = m.total_distance_m - run.distanceFrom[sensor.id];
        if (d < 0) { run.distanceFrom[sensor.id] = m.total_distance_m - (run.distance[sensor.id] || 0); d = run.distance[sensor.id] || 0; }
        run.distance[sensor.id] = d;
      } else if (run.lastSampleAt !== null) {
        run.distance[sensor.id] = (run.distance[sensor.id] || 0) + m.speed_mps * (t_s - run.lastSampleAt);
      }
      if (sensor.kind === "pod") {
        run.samples.push([t_s, m.speed_mps, m.cadence_spm, m.stride_length_m, m.total_distance_m]);
        run.lastSampleAt = t_s;
      }
    }
    show();
  }

  function onStride(sensor, s) {
    const side = s.side || sensor.side;
    if (!side) return;
    sensorsTakeOver();
    const duration = s.speed_mps > 0 ? s.length_m / s.speed_mps : (s.contact_time_s ?? 0) + s.flight_time_s;
    if ((run.state === "finished" && !run.autoStart) || run.heldByButton) return;
    if (run.state !== "running") {
      const fresh = run.state !== "paused";
      start();
      // the stride that starts the run began a stride's time before it was notified
      if (fresh) run.startedAt = new Date(run.startedAt.getTime() - duration * 1000);
    }
    const t_s = runT();
    run.firstStride[side] ??= [s.t_end_s, t_s];
    const [shoe0, run0] = run.firstStride[side];
    const list = run.feet[side];
    if (list.length && list[list.length - 1].seq === s.seq) return;
    const t_end = run0 + (s.t_end_s - shoe0);
    const prev = list.length ? list[list.length - 1].t_end_s : null;
    // A stride starts where the foot lifted (its end less its duration, both on the shoe's clock), never before
    // the one before it ends: a stop (a traffic light) stays a gap, a pause of the run, not moving time; so do
    // strides lost to a dropped link, until the shoe's run log replaces this run with all of them.
    const t_start = Math.max(prev ?? 0, t_end - duration);
    run.clockAhead = Math.max(run.clockAhead, t_end - t_s);
    // null: the shoe could not measure it (decodeStride reads its 0 ms so; a stride leaving a stance that began
    // before the run was recorded)
    const contact = s.contact_time_s;
    list.push({
      seq: s.seq, side, t_start_s: t_start, t_end_s: t_end, length_m: s.length_m, contact_time_s: contact,
      strike_type: s.strike_type, strike_angle_deg: s.strike_angle_deg,
    });
    const foot = $(`.foot[data-side="${side}"]`);
    foot.querySelector('[data-field="contact"]').textContent = contact === null ? "–" : S.num(contact * 1000);
    foot.querySelector('[data-field="strike"]').textContent = s.strike_type ? S.strikeName(s.strike_type) : "–";
    foot.querySelector('[data-field="strides"]').textContent = S.num(list.length);
    show();
  }

  /** Metres since the start, the feet's mean (null before any distance came). */
  function distanceNow() {
    const dists = Object.values(run.distance);
    return dists.length ? dists.reduce((a, x) => a + x, 0) / dists.length : null;
  }

  function show() {
    const latest = run.phone ? (run.phoneValues ? [run.phoneValues] : []) : Object.values(run.lastRsc);
    const speed = latest.length ? latest.reduce((a, m) => a + m.speed_mps, 0) / latest.length : null;
    const cadence = latest.length && latest.every((m) => m.cadence_spm !== null) ? Math.max(...latest.map((m) => m.cadence_spm)) : null;
    const strides = latest.map((m) => m.stride_length_m).filter((x) => x !== null && x !== undefined);
    const d = distanceNow();
    $("#pace").textContent = S.paceClock(S.paceFromSpeed(speed));
    $("#distance").textContent = d === null ? "–" : S.num(S.distValue(d), 2);
    $("#cadence").textContent = S.num(cadence);
    $("#stride").textContent = strides.length ? S.num(strides[strides.length - 1], 2) : "–";
    $("#time").textContent = run.startedAt ? S.clock(movingS()) : "–:––";
    // the phone alone has no feet to show; the hint to start without shoes until a run or a sensor is on
    const going = ["running", "paused"].includes(run.state);
    $("#feet").hidden = !navigator.bluetooth || (run.phone && going);
    $("#phone-alone").hidden = !navigator.bluetooth || going || [...sensors.values()].some((x) => x.state === "connected");
    const laps = run.laps;
    $("#lap-label").textContent = run.startedAt ? t("Lap {n}", { n: S.num(laps.length + 1) }) : t("This lap");
    $("#lap-time").textContent = run.startedAt ? S.clock(movingS() - (laps.length ? laps[laps.length - 1].moving_s : 0)) : "–:––";
    keep();
  }

  // ------------------------------------------------------------------ position
  function watchPosition(on) {
    const state = $("#gps-state");
    if (!on) {
      if (geoWatch !== null) navigator.geolocation.clearWatch(geoWatch);
      geoWatch = null;
      lastFix = null;
      state.textContent = "";
      return;
    }
    if (!navigator.geolocation) { state.textContent = t("This browser cannot tell the phone's position."); return; }
    state.textContent = t("Waiting for a position…");
    geoWatch = navigator.geolocation.watchPosition(
      (p) => {
        state.textContent = t("Position ±{m} m", { m: S.num(p.coords.accuracy) });
        lastFix = [p.coords.latitude, p.coords.longitude, p.coords.accuracy, p.coords.altitude];
        if (run.state === "running") {
          run.route.push([runT(), ...lastFix]);
          if (run.phone) phoneRun.onFix(p.coords.latitude, p.coords.longitude, p.coords.accuracy, runT());
        }
      },
      (e) => {
        state.textContent = e.code === 1 ? t("Position not allowed: the run is recorded without a route.") : t("No position yet.");
      },
      { enableHighAccuracy: true, maximumAge: 0 },
    );
  }

  // ------------------------------------------------------------------ upload
  function routeBody() {
    if (!run.route.length) return undefined;
    const col = (i) => run.route.map((r) => r[i]);
    const alt = col(4);
    return { t_s: col(0), lat_deg: col(1), lon_deg: col(2), accuracy_m: col(3), altitude_m: alt.every((a) => a === null) ? null : alt };
  }

  function uploadBodies() {
    const base = {
      start_time: run.startedAt.toISOString(),
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      laps: liveLaps(),
    };
    const route = routeBody();
    const bodies = [];
    const strides = [...run.feet.left, ...run.feet.right].map(({ seq, ...s }) => s);
    if (strides.length) bodies.push({ ...base, title: "", strides, ...(route ? { route } : {}) });
    const pod = [...sensors.values()].find((s) => s.kind === "pod");
    if (run.phone) {
      // the phone alone: its samples as a sensor's, when its position gave a distance
      const samples = run.samples.filter((r) => r[4] !== null);
      if (samples.length >= 2 && samples[samples.length - 1][4] > 0) {
        const col = (i) => samples.map((r) => r[i]);
        // seconds without a cadence (the first steps, the motion sensor asleep) hold the nearest one measured
        const first = samples.find((r) => r[2] !== null);
        let held = first ? first[2] : null;
        const cadence = first ? col(2).map((c) => (held = c ?? held)) : null;
        bodies.push({
          ...base,
          title: "",
          sensor: { name: S.PHONE_SENSOR, manufacturer: null, model: null, serial: null },
          samples: { t_s: col(0), speed_mps: col(1), cadence_spm: cadence, stride_length_m: null, total_distance_m: col(4) },
          ...(route ? { route } : {}),
        });
      }
      return bodies;
    }
    if (run.samples.length && pod) {
      const col = (i) => run.samples.map((r) => r[i]);
      const opt = (i) => (run.samples.some((r) => r[i] !== null) ? col(i) : null);
      bodies.push({
        ...base,
        title: pod.name,
        sensor: { name: pod.name, manufacturer: pod.manufacturer, model: pod.model, serial: null },
        samples: { t_s: col(0), speed_mps: col(1), cadence_spm: col(2), stride_length_m: opt(3), total_distance_m: opt(4) },
        ...(route && !strides.length ? { route } : {}),
      });
    }
    return bodies;
  }

  let retryDelay = 2000;
  let retryTimer = null;
  /** Uploading and queueing the log's runs take turns (``exclusive``, shared with the service worker), so a live
      upload in flight is never missed by the log run that replaces it. */
  const upload = () => exclusive(uploadOutbox);
  async function uploadOutbox() {
    clearTimeout(retryTimer);
    if (!navigator.onLine) { O.askForSync(); return; }
    delete $("#stored").dataset.signin;
    const outcome = await O.uploadAll();
    if (outcome === "signin") {
      $("#stored").textContent = t("Sign in to upload the runs kept on this phone.");
      $("#stored").dataset.signin = "1";
    } else if (outcome === "retry") {
      retryTimer = setTimeout(upload, retryDelay);
      retryDelay = Math.min(RETRY_MAX_MS, retryDelay * 2);
      O.askForSync();
    } else {
      retryDelay = 2000;
    }
    await showOutbox();
  }

  async function showOutbox() {
    const n = (await outboxAll()).length;
    const waiting = Number($("#stored").dataset.waiting || 0);
    const text = [n ? t("{n} runs waiting to upload.", { n: S.num(n) }) : t("No runs waiting to upload.")];
    if (waiting) text.push(t("{n} runs wait for the other shoe's run log, then go with one foot.", { n: S.num(waiting) }));
    if ($("#stored").dataset.signin !== "1") $("#stored").textContent = text.join(" ");
    $("#stored").dataset.count = String(n);
    const refused = await tx("readonly", (s) => s.getAll(), "refused");
    const list = $("#refused");
    list.replaceChildren(...refused.map((r) => S.el("li", { "data-key": r.key, "data-reported": r.reported ? "1" : "0" },
      S.el("span", {}, t("Refused by the server: {why}", { why: r.reason })), " ",
      S.el("span", { class: "muted small" }, r.reported ? t("(listed on the Refused runs page)") : t("(kept on this phone until the server knows of it)")))));
    list.hidden = !refused.length;
    list.dataset.count = String(refused.length);
  }

  // ------------------------------------------------------------------ pairing
  function remembered() {
    try { return JSON.parse(localStorage.getItem(KNOWN) || "[]"); } catch { return []; }
  }
  function remember() {
    localStorage.setItem(KNOWN, JSON.stringify([...sensors.values()].map((s) => s.toJSON())));
  }

  const STATE_TEXT = {
    idle: () => t("Not connected"),
    connecting: () => t("Connecting…"),
    reconnecting: () => t("Reconnecting…"),
    connected: () => t("Connected"),
  };

  function renderSensors() {
    const list = $("#sensors");
    list.replaceChildren();
    for (const s of sensors.values()) {
      const label = s.kind === "shoe"
        ? (s.side === "left" ? t("Left shoe") : t("Right shoe"))
        : t("Running pod");
      const details = [s.serial || s.name, s.firmware ? t("firmware {v}", { v: s.firmware }) : null,
        s.battery !== null ? t("battery {p}", { p: S.percent(s.battery / 100) }) : null].filter(Boolean).join(" · ");
      const li = S.el("li", { class: "sensor", "data-kind": s.kind, "data-side": s.side || "", "data-state": s.state },
        S.el("strong", {}, label), " ", S.el("span", { class: "muted small" }, details), " ",
        S.el("span", { class: "shoelink", "data-state": s.state === "connected" ? "connected" : "none" }, STATE_TEXT[s.state]()));
      list.append(li);
    }
  }

  function adopt(device, known = null) {
    if (sensors.has(device.id)) return sensors.get(device.id);
    const sensor = new B.Sensor(device, known);
    sensors.set(device.id, sensor);
    sensor.addEventListener("rsc", (e) => onRsc(sensor, e.detail));
    sensor.addEventListener("stride", (e) => onStride(sensor, e.detail));
    for (const type of ["state", "info", "battery"]) sensor.addEventListener(type, () => { renderSensors(); remember(); });
    renderSensors();
    return sensor;
  }

  async function pair() {
    $("#pair-error").textContent = "";
    let device;
    try {
      device = await navigator.bluetooth.requestDevice(B.REQUEST);
    } catch (e) {
      if (e.name !== "NotFoundError") $("#pair-error").textContent = t("Pairing failed: {why}", { why: e.message });
      return;
    }
    const sensor = adopt(device);
    try {
      await sensor.connect();
      $("#repair").hidden = true;
    } catch (e) {
      $("#pair-error").textContent = t("Could not connect to {name}: {why}", { name: device.name || "?", why: e.message });
      sensor.dropped();
    }
    remember();
  }

  async function restore() {
    const known = remembered();
    if (!known.length || !navigator.bluetooth) return;
    if (!navigator.bluetooth.getDevices) { $("#repair").hidden = false; return; }
    const devices = await navigator.bluetooth.getDevices();
    const ids = new Set(known.map((k) => k.id));
    const found = devices.filter((d) => ids.has(d.id));
    if (found.length < known.length) $("#repair").hidden = false;
    for (const d of found) {
      const sensor = adopt(d, known.find((k) => k.id === d.id));
      sensor.connect().catch(() => sensor.dropped());
    }
  }

  function init() {
    S.unitLabels(); // a public page: the shell's own "/km" and "m" follow the language and units here
    S.registerWorker(); // so a first visit online is enough for the page to open with the network off
    const bluetooth = Boolean(navigator.bluetooth);
    if (!bluetooth) {
      // no shoes here: the phone alone records runs
      $("#no-bluetooth").hidden = false;
      for (const id of ["#pairing", "#feet", "#logs"]) $(id).hidden = true;
      $("#phone-alone").hidden = true;
    } else {
      $("#pair").addEventListener("click", pair);
      $("#sync").addEventListener("click", syncAll);
    }
    $("#start").addEventListener("click", () => { run.heldByButton = false; start(); });
    $("#pause").addEventListener("click", () => { run.heldByButton = true; pause(); });
    $("#lap").addEventListener("click", lap);
    $("#stop").addEventListener("click", finish);
    $("#gps").addEventListener("change", (e) => watchPosition(e.target.checked));
    window.addEventListener("online", upload);
    // a page sent to the background may be closed without another word: what it has is kept as it goes
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") keep(true); });
    // the service worker uploaded the outbox (Background Sync): show what is left
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", (e) => { if (e.data && e.data.type === "soleware-outbox") showOutbox(); });
    }
    setInterval(() => { if (run.state === "running") show(); }, 1000);
    setState("idle");
    resume().catch(() => {}).then(restore).finally(() => { document.body.dataset.ready = "1"; });
    showOutbox().then(queueLogRuns).then(upload).catch(() => {});
  }

  window.SolewarePhone = { run, sensors, uploadBodies, outboxAll, logCount, queueLogRuns, keep };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
