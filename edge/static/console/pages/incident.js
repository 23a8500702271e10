// One incident: what it is, the actions its state and my role allow, alerts, timeline, pages.
import { html, useState, useEffect } from "../lib.js";
import { get, patch, post, optional, enc } from "../api.js";
import { fmt, duration } from "../format.js";
import { useData, Badge, Time, Age, ErrorBox, Loading, Empty, Field, Suppressed, canRespond } from "../ui.js";

const ACTIONS = {
  open: ["Acknowledge", "Resolve", "Escalate", "Reassign", "Add note"],
  acknowledged: ["Resolve", "Escalate", "Reassign", "Add note"],
  in_progress: ["Resolve", "Escalate", "Reassign", "Add note"],
  resolved: ["Reopen", "Add note"],
};

export function actionsFor(me, incident) {
  return canRespond(me) ? ACTIONS[incident.status] || [] : [];
}

function safeLink(template, values) {
  if (!template) return null;
  let missing = false;
  const url = template.replace(/\{(\w+)\}/g, (_, name) => {
    if (values[name] === undefined || values[name] === null) missing = true;
    return enc(String(values[name] ?? ""));
  });
  return !missing && /^https?:\/\//i.test(url) ? url : null;
}

function traceIdOf(incident) {
  if (incident.trace_id) return incident.trace_id;
  for (const entry of incident.timeline || []) {
    const id = entry.trace_id || (entry.detail && entry.detail.trace_id);
    if (id) return id;
  }
  return null;
}

function Facts({ incident }) {
  const i = incident;
  return html`<dl class="facts">
    <div><dt>Status</dt><dd><${Badge} kind="status" value=${i.status} /></dd></div>
    <div><dt>Severity</dt><dd><${Badge} kind="sev" value=${i.severity} /></dd></div>
    <div><dt>Service</dt><dd>${i.service || "—"}</dd></div>
    <div><dt>Team</dt><dd>${i.team ? html`<a href=${`/teams/${enc(i.team)}`}>${i.team}</a>` : "—"}</dd></div>
    <div><dt>Assignee</dt><dd>${i.assignee || "unassigned"}</dd></div>
    <div><dt>Opened</dt><dd><${Time} value=${i.created_at} /></dd></div>
    <div><dt>Acknowledged</dt><dd>${i.acknowledged_at ? html`<${Time} value=${i.acknowledged_at} />${" "}<span class="muted">after ${duration(i.mtta_seconds)}</span>` : "—"}</dd></div>
    <div><dt>Resolved</dt><dd>${i.resolved_at ? html`<${Time} value=${i.resolved_at} />${" "}<span class="muted">after ${duration(i.mttr_seconds)}</span>` : "—"}</dd></div>
  </dl>`;
}

function NoteForm({ onSubmit, onCancel }) {
  const [note, setNote] = useState("");
  return html`<form class="card form" aria-label="Add note" onSubmit=${(e) => { e.preventDefault(); onSubmit({ note }); }}>
    <${Field} label="Note">${(id) => html`<textarea id=${id} rows="3" required value=${note}
      onInput=${(e) => setNote(e.target.value)} />`}</${Field}>
    <div class="actions"><button type="submit" class="primary" disabled=${!note.trim()}>Save note</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

function ReassignForm({ incident, onSubmit, onCancel }) {
  const [assignee, setAssignee] = useState(incident.assignee || "");
  const people = useData(async () => {
    const s = await get("/api/v1/schedules");
    const team = s.items.find((x) => x.team === incident.team);
    return (team ? team.members : s.items.flatMap((x) => x.members)).map((m) => m.name);
  }, [incident.team]);
  return html`<form class="card form" aria-label="Reassign" onSubmit=${(e) => { e.preventDefault(); onSubmit({ assignee }); }}>
    <${Field} label="New assignee">${(id) => html`<input id=${id} list="assignees" required value=${assignee}
      onInput=${(e) => setAssignee(e.target.value)} />`}</${Field}>
    <datalist id="assignees">${[...new Set(people.data || [])].map((p) => html`<option value=${p} />`)}</datalist>
    <div class="actions"><button type="submit" class="primary" disabled=${!assignee.trim()}>Save assignee</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

function Actions({ me, incident, onChanged }) {
  const [open, setOpen] = useState(null);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const allowed = actionsFor(me, incident);
  if (!allowed.length) return null;
  const act = async (what, change) => {
    setError(null);
    setMessage(null);
    try {
      if (what === "Escalate") await post("/api/v1/escalate", { incident_id: incident.id });
      else await patch(`/api/v1/incidents/${incident.id}`, change);
      setOpen(null);
      setMessage(`${what}: done.`);
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const click = {
    Acknowledge: () => act("Acknowledge", { status: "acknowledged" }),
    Resolve: () => act("Resolve", { status: "resolved" }),
    Reopen: () => act("Reopen", { status: "open" }),
    Escalate: () => act("Escalate"),
    Reassign: () => setOpen("Reassign"),
    "Add note": () => setOpen("Add note"),
  };
  return html`<div class="actions-bar" role="group" aria-label="Act on this incident">
      ${allowed.map((name) => html`<button type="button" class=${name === "Acknowledge" || name === "Resolve" ? "primary" : ""}
        aria-expanded=${name === "Reassign" || name === "Add note" ? String(open === name) : undefined}
        onClick=${click[name]}>${name}</button>`)}
    </div>
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    <${ErrorBox} error=${error} />
    ${open === "Add note" ? html`<${NoteForm} onSubmit=${(c) => act("Add note", c)} onCancel=${() => setOpen(null)} />` : null}
    ${open === "Reassign" ? html`<${ReassignForm} incident=${incident} onSubmit=${(c) => act("Reassign", c)}
      onCancel=${() => setOpen(null)} />` : null}`;
}

function Labels({ labels }) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return html`<p class="muted">No labels.</p>`;
  return html`<ul class="labels" aria-label="Labels">${entries.map(([k, v]) => html`<li><code>${k}=${typeof v === "string" ? v : JSON.stringify(v)}</code></li>`)}</ul>`;
}

export function Alerts({ alerts, empty = "No alerts (opened by hand)." }) {
  if (!alerts || !alerts.length) return html`<${Empty}>${empty}</${Empty}>`;
  return html`<ol class="alerts">${alerts.map((a) => html`<li class="card">
    <p class="alert-message">${a.message}</p>
    <p class="meta"><${Badge} kind="sev" value=${a.severity} /> <span>${a.source}</span>
      ${a.service ? html`<span>${a.service}</span>` : null}
      <span>${a.status}</span> <${Age} value=${a.received_at} />
      ${a.duplicate_count ? html`<span>${a.duplicate_count} duplicates</span>` : null}
      <${Suppressed} alert=${a} /></p>
    <${Labels} labels=${a.labels} />
    <details><summary>Raw payload</summary>
      <pre class="raw" tabindex="0">${JSON.stringify(a.raw !== undefined ? a.raw : a, null, 2)}</pre></details>
  </li>`)}</ol>`;
}

function detailText(detail) {
  if (!detail || typeof detail !== "object") return detail ? String(detail) : "";
  return Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
}

function Timeline({ entries }) {
  if (!entries || !entries.length) return html`<${Empty}>Nothing yet.</${Empty}>`;
  return html`<ol class="timeline">${entries.map((e) => html`<li class=${`tl tl-${e.kind}`}>
    <span class="when"><time datetime=${e.at} title=${fmt(e.at)}>${fmt(e.at)}</time></span>
    <span class="what"><strong>${String(e.kind).replaceAll("_", " ")}</strong> by <span class="actor">${e.actor}</span></span>
    <span class="detail">${detailText(e.detail)}</span>
  </li>`)}</ol>`;
}

function Pages({ pages }) {
  if (pages.error) return html`<${ErrorBox} error=${pages.error} />`;
  if (!pages.data) return html`<${Loading} />`;
  const items = pages.data.items;
  if (!items.length) return html`<${Empty}>No page sent.</${Empty}>`;
  return html`<div class="table-wrap"><table class="list">
    <caption class="sr-only">Pages sent</caption>
    <thead><tr><th scope="col">Recipient</th><th scope="col">Channel</th><th scope="col" class="hide-narrow">Step</th>
      <th scope="col">Status</th><th scope="col" class="hide-narrow">Attempts</th><th scope="col">Delivered</th></tr></thead>
    <tbody>${items.map((n) => html`<tr>
      <td>${n.recipient}</td><td>${n.channel}</td><td class="hide-narrow">${n.step ?? "—"}</td>
      <td><${Badge} kind="delivery" value=${n.status} />${n.error ? html` <span class="muted">${n.error}</span>` : null}</td>
      <td class="hide-narrow">${n.attempts}</td><td>${n.delivered_at ? html`<${Age} value=${n.delivered_at} />` : "—"}</td>
    </tr>`)}</tbody></table></div>`;
}

function Links({ incident }) {
  const config = useData(() => optional("/api/v1/console/config", undefined, {}), []);
  const c = config.data || {};
  const values = { trace_id: traceIdOf(incident), incident_id: incident.id };
  const trace = safeLink(c.trace_url_template, values);
  const logs = safeLink(c.logs_url_template, values);
  if (!trace && !logs) return null;
  return html`<p class="links">${trace ? html`<a href=${trace} rel="noopener noreferrer" target="_blank">Trace</a>` : null}
    ${logs ? html` <a href=${logs} rel="noopener noreferrer" target="_blank">Logs</a>` : null}</p>`;
}

export function IncidentPage({ me, params }) {
  const id = params.id;
  const incident = useData(() => get(`/api/v1/incidents/${enc(id)}`), [id]);
  const pages = useData(() => get("/api/v1/notifications", { incident_id: id, limit: 200 }), [id]);
  const i = incident.data;
  useEffect(() => {
    document.title = i ? `#${i.id} ${i.title} · Klaxon` : "Incident · Klaxon";
  }, [i && i.title]);
  if (incident.error && !i) {
    return html`<h1>Incident #${id}</h1><${ErrorBox} error=${incident.error} /><p><a href="/incidents">All incidents</a></p>`;
  }
  if (!i) return html`<h1>Incident #${id}</h1><${Loading} />`;
  const refresh = () => {
    incident.reload();
    pages.reload();
  };
  return html`<p class="crumbs"><a href="/incidents">Incidents</a></p>
    <h1 class=${`incident-title sev-${i.severity}`}>#${i.id} ${i.title}</h1>
    <${Actions} me=${me} incident=${i} onChanged=${refresh} />
    <${Facts} incident=${i} />
    <${Links} incident=${i} />
    <div class="grid">
      <section class="card wide" aria-labelledby="alerts-title"><h2 id="alerts-title">Alerts (${(i.alerts || []).length})</h2>
        <${Alerts} alerts=${i.alerts} /></section>
      <section class="card wide" aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2>
        <${Timeline} entries=${i.timeline} /></section>
      <section class="card wide" aria-labelledby="pages-title"><h2 id="pages-title">Pages sent</h2>
        <${Pages} pages=${pages} /></section>
    </div>`;
}
