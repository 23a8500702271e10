// Small shared components: badges, times, errors, fields, the data hook.
import { html, useState, useEffect, useCallback, useRef } from "./lib.js";
import { fmt, ago } from "./format.js";
import { onLive } from "./live.js";

export const SEVERITIES = ["critical", "high", "medium", "low"];
export const STATUSES = ["open", "acknowledged", "in_progress", "resolved"];

export function Badge({ kind, value }) {
  if (!value) return null;
  return html`<span class=${`badge ${kind}-${value}`}>${String(value).replace("_", " ")}</span>`;
}

// An alert a maintenance window holds back: the badge and the window. (Its suppressed_until
// is the window's end when it was held, and a replay's lease after: not worth showing.)
export function Suppressed({ alert }) {
  if (!alert || alert.action !== "suppressed") return null;
  return html`<span class="badge alert-suppressed">suppressed</span>${alert.suppressed_by
    ? html`${" "}<span class="muted">by maintenance window #${alert.suppressed_by}</span>` : null}`;
}

export function Time({ value, relative = true }) {
  if (!value) return html`<span>—</span>`;
  return html`<time datetime=${value} title=${fmt(value)}>${fmt(value)}${relative
    ? html`${" "}<span class="muted">(${ago(value)})</span>` : null}</time>`;
}

export function Age({ value }) {
  if (!value) return html`<span>—</span>`;
  return html`<time datetime=${value} title=${fmt(value)}>${ago(value)}</time>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.message || String(error)}</div>`;
}

export function Loading() {
  return html`<p class="muted" aria-live="polite">Loading…</p>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

let fieldIds = 0;
export function Field({ label, error, hint, children, id }) {
  const ref = useRef(id || `f${++fieldIds}`);
  const fid = ref.current;
  const child = typeof children === "function" ? children(fid, error ? `${fid}-err` : undefined) : children;
  return html`<div class=${`field${error ? " invalid" : ""}`}>
    <label for=${fid}>${label}</label>
    ${child}
    ${hint ? html`<small class="muted">${hint}</small>` : null}
    ${error ? html`<small class="field-error" id=${`${fid}-err`}>${error}</small>` : null}
  </div>`;
}

// Load with `load()`, again on every live event and on `reload()`; stale answers dropped.
export function useData(load, deps) {
  const [state, setState] = useState({ loading: true, data: undefined, error: null });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await load();
      if (mine === seq.current) setState({ loading: false, data, error: null });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, loading: false, error }));
    }
  }, deps);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    reload();
    return onLive(reload);
  }, [reload]);
  return { ...state, reload };
}

export function canRespond(me) {
  return me && (me.role === "responder" || me.role === "admin");
}
export function isAdmin(me) {
  return me && me.role === "admin";
}
export function canManage(me, team) {
  return isAdmin(me) || (canRespond(me) && (me.managed_teams || []).includes(team));
}

export function Copy({ text, label = "Copy" }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      setDone(false);
    }
  };
  return html`<button type="button" class="small" onClick=${copy}>${done ? "Copied" : label}</button>`;
}

export function Secret({ title, value, children }) {
  return html`<div class="secret" role="status">
    <p><strong>${title}</strong> It is shown only this once.</p>
    <div class="secret-row"><code class="select">${value}</code> <${Copy} text=${value} /></div>
    ${children}
  </div>`;
}

export function Snippet({ label, text }) {
  return html`<figure class="snippet"><figcaption>${label} <${Copy} text=${text} label=${`Copy ${label}`} /></figcaption>
    <pre tabindex="0">${text}</pre></figure>`;
}
