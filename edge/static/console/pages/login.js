// Sign in (password, or SSO when the platform has it) and the password change.
import { html, useState, useEffect } from "../lib.js";
import { api, get, post, setCsrf } from "../api.js";
import { Field } from "../ui.js";

export function Login({ onSignedIn, search }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState(null);
  useEffect(() => {
    document.title = "Sign in · Klaxon";
    get("/api/v1/auth/providers", undefined, { quiet401: true })
      .then((p) => setSso(p && p.oidc ? p.oidc_login || "/api/v1/auth/oidc/login" : null))
      .catch(() => setSso(null));
  }, []);
  const next = new URLSearchParams(search).get("next");
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const opened = await api("POST", "/api/v1/auth/login", { email, password }, { quiet401: true });
      setCsrf(opened.csrf_token);
      await onSignedIn();
    } catch (e) {
      setError(e.status === 401 || e.status === 422 ? "Wrong e-mail or password." : e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<h1>Sign in to Klaxon</h1>
    ${next && next !== "/" ? html`<p class="muted">Sign in to continue to ${next}.</p>` : null}
    <form class="card form" onSubmit=${submit} novalidate>
      <${Field} label="Email">${(id) => html`<input id=${id} name="email" type="email"
        autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} />`}</${Field}>
      <${Field} label="Password">${(id) => html`<input id=${id} name="password" type="password"
        autocomplete="current-password" required value=${password}
        onInput=${(e) => setPassword(e.target.value)} />`}</${Field}>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Sign in</button></div>
    </form>
    ${sso ? html`<p><a class="button" href=${sso}>Sign in with SSO</a></p>` : null}`;
}

export function ChangePassword({ forced = false, onDone }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [errors, setErrors] = useState({});
  const [done, setDone] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setDone(false);
    if (next !== again) {
      setErrors({ again: "The two new passwords differ." });
      return;
    }
    try {
      await post("/api/v1/auth/password", { current_password: current, new_password: next });
      setErrors({});
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
      if (onDone) await onDone();
    } catch (e) {
      const f = e.fields || {};
      setErrors({
        current: f.current_password || (e.status === 403 || e.status === 401 ? e.message : null),
        next: f.new_password,
        form: Object.keys(f).length ? null : e.message,
      });
    }
  };
  return html`<section aria-labelledby="pw-title">
    ${forced
      ? html`<h1 id="pw-title">Change password</h1>
          <p>This is a one-time password. Choose your own before going on.</p>`
      : html`<h2 id="pw-title">Change password</h2>`}
    <form class=${forced ? "card form" : "form"} onSubmit=${submit}>
      <${Field} label="Current password" error=${errors.current}>${(id, err) => html`<input id=${id}
        type="password" autocomplete="current-password" required value=${current} aria-describedby=${err}
        onInput=${(e) => setCurrent(e.target.value)} />`}</${Field}>
      <${Field} label="New password" error=${errors.next} hint="A long passphrase is best.">${(id, err) => html`<input
        id=${id} type="password" autocomplete="new-password" required value=${next} aria-describedby=${err}
        onInput=${(e) => setNext(e.target.value)} />`}</${Field}>
      <${Field} label="New password again" error=${errors.again}>${(id, err) => html`<input id=${id}
        type="password" autocomplete="new-password" required value=${again} aria-describedby=${err}
        onInput=${(e) => setAgain(e.target.value)} />`}</${Field}>
      ${errors.form ? html`<p class="error" role="alert">${errors.form}</p>` : null}
      ${done ? html`<p class="ok" role="status">Password changed.</p>` : null}
      <div class="actions"><button type="submit" class="primary">Change password</button></div>
    </form>
  </section>`;
}
