/* Settings: profile name, units and language (both saved in the profile), each shoe's distance calibration (the
   factor, its references, reset), export, sign out, delete account. */
"use strict";

Soleware.ready(async (me) => {
  const S = Soleware;
  const { $, $$, el, t, api } = S;
  const save = async (body) => {
    me = await api("/api/me", { method: "PATCH", body });
    localStorage.setItem("soleware.me", JSON.stringify(me));
    return me;
  };
  $("#acc-email").textContent = me.email;
  $("#acc-tz").textContent = me.time_zone;
  $("#display_name").value = me.display_name;
  for (const r of $$("input[name=units]")) r.checked = r.value === me.units;
  for (const r of $$("input[name=locale]")) r.checked = r.value === S.CONFIG.locale;

  $("#profile").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await save({ display_name: $("#display_name").value.trim() }); S.toast(t("Saved.")); } catch (e) { S.fail(e); }
  });
  for (const r of $$("input[name=units]")) {
    r.addEventListener("change", async () => {
      try {
        await save({ units: r.value });
        S.state.imperial = me.units === "imperial";
        S.unitLabels();
        S.toast(S.state.imperial ? t("Distances now in miles.") : t("Distances now in kilometres."));
      } catch (e) { S.fail(e); }
    });
  }
  for (const r of $$("input[name=locale]")) r.addEventListener("change", () => S.switchLanguage(r.value));

  // ------------------------------------------------------------------ calibration
  const KIND = () => ({ track: t("Track"), treadmill: t("Treadmill"), course: t("Measured course"), gps: t("GPS"), markers: t("Race markers") });
  const REASON = () => ({
    implausible: t("more than 15 % from the shoes: probably a wrong entry"),
    disagrees: t("disagrees with the others"),
    unconfirmed: t("far from the learned factor: waits for another reference to agree"),
    reset: t("before the reset"),
  });
  const signedPercent = (f) => (f >= 1 ? "+" : "−") + S.num(Math.abs(f - 1) * 100, 1, 1) + " %";
  const resetDialog = $("#confirm-reset");
  let resetShoe = null;
  resetDialog.addEventListener("close", async () => {
    if (resetDialog.returnValue !== "reset" || resetShoe === null) return;
    try {
      await api("/api/calibration", { method: "DELETE", query: { shoe: resetShoe } });
      S.toast(t("Calibration reset."));
      await showCalibration();
    } catch (e) { S.fail(e); }
  });
  function shoeCard(c) {
    const kinds = KIND();
    const reasons = REASON();
    const learned = c.n_agreeing >= c.min_agreeing;
    const factor = learned
      ? el("p", { class: "factor" }, el("strong", { text: signedPercent(c.factor) }), " ",
          el("span", { class: "muted small", text: t("(distances × {factor})", { factor: S.num(c.factor, 3, 3) }) }))
      : el("p", { class: "factor", text: t("Not calibrated yet: {n} of {need} references agree.", { n: c.n_agreeing, need: c.min_agreeing }) });
    const rows = c.references.map((r) => el("li", { class: r.accepted ? "ok" : "rejected" },
      el("span", { text: S.date(r.start_time) + " · " + (kinds[r.kind] || r.kind) + " · " }),
      el("span", { text: t("{known} known, {raw} measured", { known: S.distance(r.reference_m), raw: S.distance(r.raw_m) }) }),
      el("span", { class: "small " + (r.accepted ? "muted" : "warn"), text: " · " + (r.accepted ? t("counts") : t("not counted: {why}", { why: reasons[r.reason] || r.reason })) }),
      " ", el("a", { href: "/runs/" + encodeURIComponent(r.run_id), class: "small", text: t("run") })));
    return el("div", { class: "card calibration" },
      el("h3", { text: c.shoe === "pod:" + S.PHONE_SENSOR ? t("This phone") : c.shoe.startsWith("pod:") ? t("Pod {name}", { name: c.shoe.slice(4) })
        : c.shoe ? t("Shoes {serials}", { serials: c.shoe.split("+").join(" + ") }) : t("Shoes without a serial") }),
      factor,
      rows.length ? el("ul", { class: "refs small" }, rows) : null,
      el("div", { class: "row" }, el("button", {
        type: "button", class: "secondary", "data-shoe": c.shoe, text: t("Reset calibration"),
        disabled: !c.references.some((r) => r.reason !== "reset") && c.factor === 1,
        onclick: () => { resetShoe = c.shoe; resetDialog.showModal(); },
      })));
  }
  async function showCalibration() {
    const cal = await api("/api/calibration");
    $("#calibration").replaceChildren(...cal.shoes.map(shoeCard));
    $("#no-calibration").hidden = cal.shoes.length > 0;
  }
  showCalibration().catch(S.fail);

  api("/api/runs", { query: { limit: 1 } }).then((page) => {
    if (!page.runs.length) return;
    const link = $("#export-link");
    link.href = "/api/runs/" + encodeURIComponent(page.runs[0].id) + "/export?format=fit";
    link.setAttribute("download", "run-" + page.runs[0].id.slice(0, 8) + ".fit");
    link.dataset.authDownload = "";
    $("#export-latest").hidden = false;
  }).catch(() => {});

  $("#signout").addEventListener("click", async () => {
    await S.signOut();
    location.assign("/signin");
  });
  const dialog = $("#confirm-delete");
  $("#delete-account").addEventListener("click", () => {
    $("#understand").checked = false;
    $("#confirm-delete-yes").disabled = true;
    dialog.showModal();
  });
  $("#understand").addEventListener("change", (ev) => { $("#confirm-delete-yes").disabled = !ev.target.checked; });
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await api("/api/me", { method: "DELETE" });
      await S.forget();
      location.assign("/signup");
    } catch (e) { S.fail(e); }
  });
});
