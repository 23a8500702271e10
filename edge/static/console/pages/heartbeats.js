// Heartbeat monitors: each one's state, when it last beat, and how long a silence it allows;
// an admin adds one (its key shown once, with the beat's curl and Alertmanager's Watchdog
// route) or deletes one.
import { html, useState, useEffect } from "../lib.js";
import { get, post, del } from "../api.js";
import { duration } from "../format.js";
import { useData, Badge, Age, ErrorBox, Loading, Empty, Field, Secret, Snippet, SEVERITIES, isAdmin } from "../ui.js";

const MINUTE = 60;

export function every(monitor) {
  const grace = monitor.grace_seconds ? ` + ${duration(monitor.grace_seconds)} grace` : "";
  return `every ${duration(monitor.interval_seconds)}${grace}`;
}

export function beatSnippets(base, monitor) {
  const url = `${base}/api/v1/heartbeats/${monitor.id}/beat`;
  return [
    ["curl, after each run", `curl -fsS -X POST ${url} -H "Authorization: Bearer ${monitor.key}"`],
    ["Alertmanager Watchdog route", `route:
  routes:
    - matchers: [alertname="Watchdog"]
      receiver: klaxon-heartbeat
      group_wait: 0s
      group_interval: 1m
      repeat_interval: 1m
receivers:
  - name: klaxon-heartbeat
    webhook_configs:
      - url: ${url}
        send_resolved: false
        http_config:
          authorization: {credentials: ${monitor.key}}`],
  ];
}

// Minutes in the form, seconds in the API; an empty or non-numeric entry is sent as it is,
// so that the API's own message says what is wrong.
const seconds = (minutes) => (minutes === "" || isNaN(Number(minutes)) ? minutes : Math.round(Number(minutes) * MINUTE));

function CreateForm({ onCreated }) {
  const [name, setName] = useState("");
  const [service, setService] = useState("");
  const [interval, setEvery] = useState("60");
  const [grace, setGrace] = useState("5");
  const [severity, setSeverity] = useState("critical");
  const [error, setError] = useState(null);
  const f = (error && error.fields) || {};
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const body = { name, service, interval_seconds: seconds(interval), grace_seconds: seconds(grace), severity };
      const made = await post("/api/v1/heartbeats", body);
      setName("");
      onCreated(made);
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="card form" aria-labelledby="new-heartbeat" onSubmit=${submit}>
    <h2 id="new-heartbeat">New heartbeat monitor</h2>
    <${Field} label="Name" error=${f.name} hint="Letters, digits, '.', '-' or '_', like nightly-backup">${(id, err) => html`<input
      id=${id} required value=${name} aria-describedby=${err} onInput=${(e) => setName(e.target.value)} />`}</${Field}>
    <${Field} label="Service" error=${f.service} hint="Its team is paged when the beats stop">${(id, err) => html`<input
      id=${id} required value=${service} aria-describedby=${err} onInput=${(e) => setService(e.target.value)} />`}</${Field}>
    <${Field} label="Expected every (minutes)" error=${f.interval_seconds}>${(id, err) => html`<input id=${id} required
      inputmode="decimal" value=${interval} aria-describedby=${err} onInput=${(e) => setEvery(e.target.value)} />`}</${Field}>
    <${Field} label="Grace (minutes)" error=${f.grace_seconds} hint="How much longer it waits before paging">${(id, err) => html`<input
      id=${id} required inputmode="decimal" value=${grace} aria-describedby=${err} onInput=${(e) => setGrace(e.target.value)} />`}</${Field}>
    <${Field} label="Severity" error=${f.severity}>${(id) => html`<select id=${id} value=${severity}
      onChange=${(e) => setSeverity(e.target.value)}>${SEVERITIES.map((s) => html`<option value=${s}>${s}</option>`)}</select>`}</${Field}>
    ${error && !Object.keys(f).length ? html`<${ErrorBox} error=${error} />` : null}
    ${error && Object.keys(f).length ? html`<p class="field-error" role="alert">Check the fields marked above.</p>` : null}
    <div class="actions"><button type="submit" class="primary">Add monitor</button></div>
  </form>`;
}

function DeleteButton({ monitor, onDeleted }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState(null);
  const remove = async () => {
    try {
      await del(`/api/v1/heartbeats/${monitor.id}`);
      onDeleted();
    } catch (e) {
      setError(e);
    }
  };
  return html`${confirm
    ? html`<button type="button" class="small danger" onClick=${remove}>Confirm delete ${monitor.name}</button>
      <button type="button" class="small" onClick=${() => setConfirm(false)}>Keep</button>`
    : html`<button type="button" class="small" onClick=${() => setConfirm(true)}
      aria-label=${`Delete ${monitor.name}`}>Delete</button>`}
    ${error ? html`<span class="error">${error.message}</span>` : null}`;
}

function MonitorTable({ items, admin, onChanged }) {
  return html`<div class="table-wrap"><table class="list heartbeats">
    <caption class="sr-only">Heartbeat monitors</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Service</th><th scope="col">State</th>
      <th scope="col">Last beat</th><th scope="col">Expected</th>${admin ? html`<th scope="col">Actions</th>` : null}</tr></thead>
    <tbody>${items.map((m) => html`<tr key=${m.id}>
      <td>${m.name}</td><td>${m.service}</td><td><${Badge} kind="beat" value=${m.state} /></td>
      <td>${m.last_beat_at ? html`<${Age} value=${m.last_beat_at} />` : "never"}</td>
      <td>${every(m)}</td>
      ${admin ? html`<td><${DeleteButton} monitor=${m} onDeleted=${onChanged} /></td>` : null}
    </tr>`)}</tbody>
  </table></div>`;
}

export function Heartbeats({ me }) {
  useEffect(() => {
    document.title = "Heartbeats · Klaxon";
  }, []);
  const list = useData(() => get("/api/v1/heartbeats"), []);
  const [made, setMade] = useState(null);
  const items = (list.data && list.data.items) || [];
  const admin = isAdmin(me);
  return html`<h1>Heartbeats</h1>
    <p class="muted">A monitor that hears no beat for its interval and grace opens an alert for its service.</p>
    ${made ? html`<${Secret} title=${`Key of ${made.name}:`} value=${made.key}>
      ${beatSnippets(location.origin, made).map(([label, text]) => html`<${Snippet} label=${label} text=${text} />`)}
      <button type="button" onClick=${() => setMade(null)}>I have copied it</button>
    </${Secret}>` : null}
    <${ErrorBox} error=${list.error} />
    ${list.loading && !list.data ? html`<${Loading} />` : items.length
      ? html`<${MonitorTable} items=${items} admin=${admin} onChanged=${list.reload} />`
      : html`<${Empty}>No heartbeat monitor yet.</${Empty}>`}
    ${admin ? html`<${CreateForm} onCreated=${(m) => { setMade(m); list.reload(); }} />` : null}`;
}
