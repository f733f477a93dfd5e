/* Live run: values the gateway posts reach this page over the WebSocket /api/live/ws; the socket reconnects with
   exponential back-off (and at once when the browser comes back online) without reloading the page. */
"use strict";

Soleware.ready(() => {
  const S = Soleware;
  const { $, $$, t } = S;
  const link = $("#link");
  const MAX_DELAY_MS = 15000;
  const STALE_MS = 15000;
  let ws = null;
  let attempt = 0;
  let retryTimer = null;
  let tickTimer = null;
  let last = null;
  let lastAt = 0;

  /** The gateway's link to each shoe (feet.<side>.link); older gateways send none: then "has data" is connected. */
  const LINK_TEXT = {
    connected: () => t("Connected"),
    syncing: () => t("Syncing…"),
    connecting: () => t("Connecting…"),
    reconnecting: () => t("Reconnecting…"),
    searching: () => t("Searching…"),
    none: () => t("Not connected"),
  };

  function setLink(state, text) {
    link.dataset.state = state;
    link.textContent = text;
  }

  function setText(sel, text, root = document) {
    const node = typeof sel === "string" ? $(sel, root) : sel;
    if (node && node.textContent !== text) node.textContent = text;
  }

  function showFoot(side, foot, battery, fresh) {
    const box = $(`.foot[data-side="${side}"]`);
    const f = foot || {};
    const contact = typeof f.contact_time_s === "number" ? S.num(f.contact_time_s * 1000, 0) : "–";
    setText($("[data-field=contact]", box), contact);
    setText($("[data-field=strike]", box), S.strikeName(f.strike_type));
    const bar = $("[data-field=battery-bar]", box);
    if (typeof battery === "number") {
      setText($("[data-field=battery]", box), S.percent(battery / 100));
      bar.style.width = Math.max(0, Math.min(100, battery)) + "%";
      bar.parentElement.classList.toggle("low", battery < 20);
    } else {
      setText($("[data-field=battery]", box), "–");
      bar.style.width = "0";
    }
    const linkNode = $("[data-field=link]", box);
    const state = fresh && f.link in LINK_TEXT ? f.link : fresh && (foot || typeof battery === "number") ? "connected" : "none";
    linkNode.dataset.state = state;
    setText(linkNode, LINK_TEXT[state]());
  }

  function show(msg) {
    const fresh = msg && msg.type === "update" && Date.now() - lastAt < STALE_MS;
    if (!msg || msg.type === "idle") {
      setText("#run-state", t("No run in progress"));
      for (const id of ["#distance", "#cadence", "#stride"]) setText(id, "–");
      setText("#pace", "–:––");
      setText("#time", "–:––");
    } else {
      if (msg.type === "end") setText("#run-state", t("Run finished"));
      else if (!fresh) setText("#run-state", t("No signal from the shoes"));
      else setText("#run-state", msg.running === false ? t("Paused") : t("Running"));
      if (msg.type === "update") {
        setText("#pace", S.paceClock(S.paceFromSpeed(msg.speed_mps)));
        setText("#distance", S.num(S.distValue(msg.distance_m), 2));
        setText("#time", S.clock(msg.t_s));
        setText("#cadence", S.num(msg.cadence_spm, 0));
        setText("#stride", S.num(msg.stride_length_m, 2));
      }
    }
    // the lap being run, once the runner pressed one at the gateway
    const lap = msg && msg.type !== "idle" ? msg.lap : null;
    $("#lap-stat").hidden = !lap;
    if (lap) {
      setText("#lap-label", t("Lap {n}", { n: S.num(lap.n) }));
      setText("#lap-time", S.clock(lap.t_s));
    }
    const feet = (msg && msg.feet) || {};
    const battery = (msg && msg.battery_pct) || {};
    for (const side of ["left", "right"]) showFoot(side, feet[side], battery[side], fresh);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  function handle(msg) {
    if (msg.type === "update") {
      last = msg;
      lastAt = Date.now();
    } else if (msg.type === "end" && last) {
      last = { ...last, type: "end" };
      msg = last;
    } else {
      last = msg;
    }
    show(msg);
  }

  function connect() {
    clearTimeout(retryTimer);
    clearInterval(tickTimer);
    if (ws) return;
    setLink("connecting", t("Connecting…"));
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${proto}//${location.host}/api/live/ws`);
    ws = socket;
    let authed = false;
    socket.addEventListener("open", () => socket.send("{}"));
    socket.addEventListener("message", (ev) => {
      if (!authed) {
        authed = true;
        attempt = 0;
        setLink("open", t("Connected"));
      }
      try { handle(JSON.parse(ev.data)); } catch (e) { console.warn("live message", e); }
    });
    socket.addEventListener("close", (ev) => {
      if (ws === socket) ws = null;
      if (ev.code === 4401) {
        S.forget().then(S.toSignIn);
        return;
      }
      retry();
    });
  }

  function retry() {
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const left = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      setLink("retrying", navigator.onLine ? t("Reconnecting in {s} s…", { s: left }) : t("Offline, waiting for a connection…"));
    };
    tick();
    tickTimer = setInterval(tick, 1000);
    retryTimer = setTimeout(connect, delay);
  }

  window.addEventListener("online", () => {
    if (!ws) { attempt = 0; connect(); }
  });
  setInterval(() => { if (last && last.type === "update") show(last); }, 5000);
  connect();
});
