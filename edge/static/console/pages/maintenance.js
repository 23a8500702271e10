// Maintenance windows: what is quiet now and next, the alerts they hold back; a responder
// ends or extends a window, or plans a one-off one.
import { html, useState, useEffect } from "../lib.js";
import { get, post, patch } from "../api.js";
import { currentZone, fromZoneInput, toZoneInput } from "../format.js";
import { useData, Badge, Time, ErrorBox, Loading, Empty, Field, canRespond } from "../ui.js";
import { Alerts } from "./incident.js";

const HOUR = 3600 * 1000;

export const matcherText = (m) => (typeof m === "string" ? m : `${m.name} ${m.op} ${m.value}`);

export function parseMatchers(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function Recurrence({ recurrence }) {
  if (!recurrence) return html`<span>once</span>`;
  const r = recurrence;
  return html`<span><code>${r.rrule}</code>${" "}<span class="muted">${r.start_time}–${r.end_time} ${r.timezone}</span></span>`;
}

function WindowActions({ window: w, onChanged }) {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const act = async (what, change) => {
    setError(null);
    setMessage(null);
    try {
      await patch(`/api/v1/maintenance_windows/${w.id}`, change);
      setMessage(`${what}: done.`);
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const extend = () => {
    const end = new Date(new Date(w.next_ends_at || w.ends_at).getTime() + HOUR).toISOString();
    act("Extend 1 h", { ends_at: end });
  };
  return html`<div class="actions" role="group" aria-label=${`Act on maintenance window ${w.id}`}>
      <button type="button" class="danger" onClick=${() => act("End now", { end_now: true })}>End now</button>
      ${!w.recurrence && (w.next_ends_at || w.ends_at)
        ? html`<button type="button" onClick=${extend}>Extend 1 h</button>` : null}
    </div>
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    <${ErrorBox} error=${error} />`;
}

function WindowCard({ window: w, me, onChanged }) {
  return html`<li class="card window" data-testid=${`window-${w.id}`}>
    <h3 class="window-reason">${w.reason}</h3>
    <p class="meta"><${Badge} kind="window" value=${w.state} /> <span class="muted">window #${w.id}</span></p>
    <ul class="labels" aria-label="Matchers">${(w.matchers || []).map((m) => html`<li><code>${matcherText(m)}</code></li>`)}</ul>
    <dl class="facts">
      <div><dt>${w.state === "active" ? "Started" : "Starts"}</dt><dd><${Time} value=${w.next_starts_at} /></dd></div>
      <div><dt>Ends</dt><dd><${Time} value=${w.next_ends_at} /></dd></div>
      <div><dt>Repeats</dt><dd><${Recurrence} recurrence=${w.recurrence} /></dd></div>
      <div><dt>Author</dt><dd>${w.author || "—"}</dd></div>
      <div><dt>Replay at the end</dt><dd>${w.replay ? "yes" : "no"}</dd></div>
    </dl>
    ${canRespond(me) ? html`<${WindowActions} window=${w} onChanged=${onChanged} />` : null}
  </li>`;
}

function CreateForm({ onCreated }) {
  const now = Date.now();
  const [reason, setReason] = useState("");
  const [matchers, setMatchers] = useState("");
  const [starts, setStarts] = useState(toZoneInput(new Date(now).toISOString()));
  const [ends, setEnds] = useState(toZoneInput(new Date(now + HOUR).toISOString()));
  const [replay, setReplay] = useState(true);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const f = (error && error.fields) || {};
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      const body = { reason, matchers: parseMatchers(matchers), ends_at: fromZoneInput(ends), replay };
      if (starts) body.starts_at = fromZoneInput(starts);
      const made = await post("/api/v1/maintenance_windows", body);
      setReason("");
      setMatchers("");
      setMessage(`Window #${made.id} planned.`);
      onCreated(made);
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="card form" aria-labelledby="new-window" onSubmit=${submit}>
    <h2 id="new-window">New maintenance window</h2>
    <p class="muted">Times in ${currentZone()}. Alerts that match every matcher are held back while it lasts.</p>
    <${Field} label="Reason" error=${f.reason}>${(id, err) => html`<input id=${id} required value=${reason}
      aria-describedby=${err} onInput=${(e) => setReason(e.target.value)} />`}</${Field}>
    <${Field} label="Matchers" error=${f.matchers} hint="Comma-separated, like service=checkout-api, severity!=critical">${(id, err) => html`<input
      id=${id} required value=${matchers} aria-describedby=${err}
      onInput=${(e) => setMatchers(e.target.value)} />`}</${Field}>
    <${Field} label="Starts" error=${f.starts_at}>${(id, err) => html`<input id=${id} type="datetime-local"
      value=${starts} aria-describedby=${err} onInput=${(e) => setStarts(e.target.value)} />`}</${Field}>
    <${Field} label="Ends" error=${f.ends_at}>${(id, err) => html`<input id=${id} type="datetime-local" required
      value=${ends} aria-describedby=${err} onInput=${(e) => setEnds(e.target.value)} />`}</${Field}>
    <div class="field check"><input id="window-replay" type="checkbox" checked=${replay}
      onChange=${(e) => setReplay(e.target.checked)} />
      <label for="window-replay">Replay at the end (alerts still firing then open incidents)</label></div>
    ${error && !Object.keys(f).length ? html`<${ErrorBox} error=${error} />` : null}
    ${error && Object.keys(f).length ? html`<p class="field-error" role="alert">Check the fields marked above.</p>` : null}
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    <div class="actions"><button type="submit" class="primary">Plan window</button></div>
  </form>`;
}

export function Maintenance({ me }) {
  useEffect(() => {
    document.title = "Maintenance · Klaxon";
  }, []);
  const list = useData(() => get("/api/v1/maintenance_windows"), []);
  const held = useData(() => get("/api/v1/alerts", { action: "suppressed", status: "firing", limit: 50 }), []);
  const items = (list.data && list.data.items) || [];
  const refresh = () => {
    list.reload();
    held.reload();
  };
  return html`<h1>Maintenance</h1>
    <section class="card" aria-labelledby="windows-title"><h2 id="windows-title">In force and upcoming (${items.length})</h2>
      <${ErrorBox} error=${list.error} />
      ${list.loading && !list.data ? html`<${Loading} />` : items.length
        ? html`<ul class="windows">${items.map((w) => html`<${WindowCard} key=${w.id} window=${w} me=${me} onChanged=${refresh} />`)}</ul>`
        : list.error ? null : html`<${Empty}>No maintenance window in force or planned.</${Empty}>`}
    </section>
    ${canRespond(me) ? html`<${CreateForm} onCreated=${refresh} />` : null}
    <section class="card" aria-labelledby="held-title"><h2 id="held-title">Alerts held back</h2>
      <${ErrorBox} error=${held.error} />
      ${held.loading && !held.data ? html`<${Loading} />`
        : html`<${Alerts} alerts=${(held.data && held.data.items) || []} empty="No alert is held back." />`}
    </section>`;
}
