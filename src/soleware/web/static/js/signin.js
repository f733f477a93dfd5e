/* Sign in: trade e-mail and password for a bearer token, kept in localStorage. */
"use strict";

/** Whether the saved token still signs in the runner with ``email`` (a demo database may be new since). */
async function signedInAs(email) {
  try {
    const resp = await fetch("/api/me", { headers: { Authorization: "Bearer " + Soleware.token() } });
    if (resp.status === 401) await Soleware.forget();
    return resp.ok && (await resp.json()).email.toLowerCase() === email.toLowerCase();
  } catch {
    return false;
  }
}

Soleware.ready(async () => {
  const { $, api, t, token, setToken, setLangCookie } = Soleware;
  const params = new URLSearchParams(location.search);
  const email = (params.get("email") || "").trim();
  // ?email= (`soleware demo` opens /signin?email=…) asks for that runner: stay here unless they are signed in
  if (token() && (!email || (await signedInAs(email)))) {
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
      const { access_token } = await api("/api/auth/signin", {
        method: "POST",
        auth: false,
        body: { email: form.email.value.trim(), password: form.password.value },
      });
      setToken(access_token);
      const me = await api("/api/me");
      localStorage.setItem("soleware.me", JSON.stringify(me));
      setLangCookie(me.locale);
      const next = params.get("next");
      location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (e) {
      error.textContent = e.status === 401 ? t("Wrong e-mail or password.") : e.message;
      button.disabled = false;
    }
  });
});
