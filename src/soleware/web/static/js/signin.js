/* Sign in: e-mail and password start a cookie session (HttpOnly: this script never sees a token). */
"use strict";

/** Whether the session still signs in the runner with ``email`` (a demo database may be new since). */
async function signedInAs(email) {
  try {
    const resp = await fetch("/api/me", { credentials: "same-origin" });
    if (resp.status === 401) await Soleware.forget();
    return resp.ok && (await resp.json()).email.toLowerCase() === email.toLowerCase();
  } catch {
    return false;
  }
}

Soleware.ready(async () => {
  const { $, t, signedIn, signIn, setLangCookie } = Soleware;
  const params = new URLSearchParams(location.search);
  const email = (params.get("email") || "").trim();
  // ?email= (`soleware demo` opens /signin?email=…) asks for that runner: stay here unless they are signed in
  if (signedIn() && (!email || (await signedInAs(email)))) {
    location.replace("/");
    return;
  }
  const form = $("#signin");
  if (email) {
    form.email.value = email;
    form.password.focus();
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#form-error");
    error.textContent = "";
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const me = await signIn(form.email.value.trim(), form.password.value);
      setLangCookie(me.locale);
      const next = params.get("next");
      location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (e) {
      error.textContent = e.status === 401 ? t("Wrong e-mail or password.") : e.message;
      button.disabled = false;
    }
  });
});
