/* Settings: profile name, units and language (both saved in the profile), export, sign out, delete account. */
"use strict";

Soleware.ready(async (me) => {
  const S = Soleware;
  const { $, $$, t, api } = S;
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
