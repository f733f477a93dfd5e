/* Run page: "this run had a known distance" — mark the run as a reference for the shoes' calibration (a track's
   laps, a treadmill's reading, a measured course, the markers the runner pressed Lap at), or unmark it; and the shoes' own distance beside the
   calibrated one. Builds its own section, so run.html only includes this file. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, el, t, api } = S;
  const id = decodeURIComponent(location.pathname.split("/")[2] || "");
  let run;
  try { run = await api("/api/runs/" + encodeURIComponent(id)); } catch { return; }  // run.js shows why
  if (!["shoe", "recording", "pod"].includes(run.source)) return;
  const kinds = { track: t("Track"), treadmill: t("Treadmill"), course: t("Measured course"), markers: t("Markers I pressed Lap at") };
  const unitM = () => (S.state.imperial ? S.M_PER_MI : 1000);
  const section = el("section", { id: "reference", "aria-labelledby": "h-reference" },
    el("h2", { id: "h-reference", text: t("Known distance") }));
  const anchor = $("#run-body section[aria-labelledby=h-actions]");
  if (!anchor) return;
  anchor.before(section);

  function calibrated() {
    if (!run.calibration_factor || run.calibration_factor === 1) return null;
    return el("p", { class: "small muted", id: "raw-distance",
      text: t("The shoes measured {raw}; corrected by your calibration (× {factor}).",
        { raw: S.distance(run.raw_distance_m), factor: S.num(run.calibration_factor, 3, 3) }) });
  }

  function form() {
    // markers only for a run with a lap that ended at one (the last lap ends at Finish)
    const offered = Object.entries(kinds).filter(([k]) => k !== "markers" || run.laps.length >= 2);
    const kind = el("select", { id: "ref-kind", name: "kind" },
      ...offered.map(([k, label]) => el("option", { value: k, text: label })));
    const amount = el("input", { id: "ref-amount", name: "amount", type: "number", inputmode: "decimal", min: "0", step: "any", required: true });
    const label = el("label", { for: "ref-amount" });
    const hint = el("p", { class: "small muted", id: "ref-hint" });
    const setLabel = () => {
      label.textContent = kind.value === "track" ? t("Laps of 400 m (lane 1)")
        : kind.value === "markers" ? t("Markers every ({unit})", { unit: S.distUnit() })
        : t("Distance ({unit})", { unit: S.distUnit() });
      if (kind.value === "markers" && !amount.value) amount.value = "1";
      hint.textContent = kind.value === "markers" ? t("From the start to your last Lap press, one marker apart per lap: press Lap at each marker as you pass it.") : "";
      hint.hidden = kind.value !== "markers";
    };
    kind.addEventListener("change", setLabel);
    setLabel();
    const f = el("form", { novalidate: true },
      el("p", { class: "small muted", text: t("Did this run have a known distance? Your shoes learn from it once three such runs agree.") }),
      el("label", { for: "ref-kind", text: t("Where") }), kind, hint, label, amount,
      el("div", { class: "row" }, el("button", { type: "submit", text: t("This run had a known distance") })));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const x = Number(amount.value);
      if (!(x > 0)) { S.toast(t("Give the laps or the distance.")); return; }
      const body = kind.value === "track" ? { kind: "track", laps: x }
        : kind.value === "markers" ? { kind: "markers", marker_m: x * unitM() }
        : { kind: kind.value, distance_m: x * unitM() };
      try {
        await api("/api/runs/" + encodeURIComponent(id) + "/reference", { method: "PUT", body });
        S.toast(t("Saved. See Settings for your calibration."));
        await refresh();
      } catch (e) { S.fail(e); }
    });
    return f;
  }

  function marked(ref) {
    return el("div", { class: "card" },
      el("p", { id: "ref-marked", text: t("{kind}: {known} (the shoes measured {raw}).",
        { kind: kinds[ref.kind] || ref.kind, known: S.distance(ref.reference_m), raw: S.distance(ref.raw_m) }) }),
      el("div", { class: "row" }, el("button", { type: "button", class: "secondary", id: "ref-remove", text: t("Not a known distance"),
        onclick: async () => {
          try {
            await api("/api/runs/" + encodeURIComponent(id) + "/reference", { method: "DELETE" });
            await refresh();
          } catch (e) { S.fail(e); }
        } })));
  }

  async function refresh() {
    run = await api("/api/runs/" + encodeURIComponent(id));
    section.replaceChildren(section.firstChild, ...[calibrated(), run.reference ? marked(run.reference) : form()].filter(Boolean));
  }
  section.append(...[calibrated(), run.reference ? marked(run.reference) : form()].filter(Boolean));
});
