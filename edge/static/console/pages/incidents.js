// The incident list: filters in the URL, keyset pages, several acknowledged or resolved at once.
import { html, useState, useEffect } from "../lib.js";
import { get, patch } from "../api.js";
import { toLocalInput, fromLocalInput } from "../format.js";
import { navigate } from "../router.js";
import { useData, Badge, Age, ErrorBox, Loading, Empty, Field, canRespond, SEVERITIES, STATUSES } from "../ui.js";

const FILTERS = ["q", "status", "severity", "service", "team", "assignee", "since", "until", "sort"];

export function IncidentList({ items }) {
  return html`<ul class="incidents">
    ${items.map((i) => html`<li class=${`incident sev-${i.severity}`}>
      <a href=${`/incidents/${i.id}`} class="title">#${i.id} ${i.title}</a>
      <span class="meta"><${Badge} kind="sev" value=${i.severity} /> <${Badge} kind="status" value=${i.status} />
        <span>${i.service}</span> <span class="muted">${i.assignee ? `→ ${i.assignee}` : "unassigned"}</span>
        <${Age} value=${i.created_at} /></span>
    </li>`)}
  </ul>`;
}

function paramsOf(search) {
  const q = new URLSearchParams(search);
  const out = {};
  for (const key of [...FILTERS, "cursor", "limit"]) if (q.get(key)) out[key] = q.get(key);
  return out;
}

function urlOf(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `/incidents${s ? `?${s}` : ""}`;
}

function Select({ label, name, value, options, onChange }) {
  return html`<${Field} label=${label}>${(id) => html`<select id=${id} name=${name} value=${value || ""}
    onChange=${(e) => onChange(name, e.target.value)}>
    <option value="">any</option>
    ${options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o.replace("_", " ")];
      return html`<option value=${v}>${text}</option>`;
    })}
  </select>`}</${Field}>`;
}

function Filters({ params, catalog }) {
  const [draft, setDraft] = useState(params);
  useEffect(() => setDraft(params), [JSON.stringify(params)]);
  const set = (name, value) => setDraft((d) => ({ ...d, [name]: value }));
  const apply = (next) => navigate(urlOf({ ...next, cursor: undefined }));
  const change = (name, value) => {
    const next = { ...draft, [name]: value };
    setDraft(next);
    apply(next);
  };
  const text = (label, name, list, type = "text") => html`<${Field} label=${label}>${(id) => html`<input
    id=${id} name=${name} type=${type} list=${list} value=${draft[name] || ""}
    onInput=${(e) => set(name, e.target.value)} />`}</${Field}>`;
  const when = (label, name) => html`<${Field} label=${label}>${(id) => html`<input id=${id} name=${name}
    type="datetime-local" value=${toLocalInput(draft[name])}
    onChange=${(e) => change(name, fromLocalInput(e.target.value))} />`}</${Field}>`;
  return html`<form class="filters card" role="search" aria-label="Filter incidents"
      onSubmit=${(e) => { e.preventDefault(); apply(draft); }}>
    ${text("Search titles", "q", undefined, "search")}
    <${Select} label="Status" name="status" value=${draft.status} options=${STATUSES} onChange=${change} />
    <${Select} label="Severity" name="severity" value=${draft.severity} options=${SEVERITIES} onChange=${change} />
    ${text("Service", "service", "services-list")}
    ${text("Team", "team", "teams-list")}
    ${text("Assignee", "assignee", "people-list")}
    ${when("Since", "since")}
    ${when("Until", "until")}
    <${Field} label="Sort">${(id) => html`<select id=${id} name="sort" value=${draft.sort || "-created_at"}
      onChange=${(e) => change("sort", e.target.value === "-created_at" ? "" : e.target.value)}>
      <option value="-created_at">newest first</option><option value="created_at">oldest first</option></select>`}</${Field}>
    <datalist id="services-list">${catalog.services.map((s) => html`<option value=${s} />`)}</datalist>
    <datalist id="teams-list">${catalog.teams.map((s) => html`<option value=${s} />`)}</datalist>
    <datalist id="people-list">${catalog.people.map((s) => html`<option value=${s} />`)}</datalist>
    <div class="actions"><button type="submit" class="primary">Apply filters</button>
      <a class="button" href="/incidents">Clear</a></div>
  </form>`;
}

async function loadCatalog() {
  const schedules = await get("/api/v1/schedules");
  const services = new Set();
  const people = new Set();
  for (const s of schedules.items) {
    (s.services || []).forEach((x) => services.add(x));
    (s.members || []).forEach((m) => people.add(m.name));
  }
  return { teams: schedules.items.map((s) => s.team).sort(), services: [...services].sort(), people: [...people].sort() };
}

const TARGET = { acknowledged: ["open"], resolved: ["open", "acknowledged", "in_progress"] };

function Bulk({ selected, items, onDone }) {
  const [message, setMessage] = useState(null);
  const run = async (status) => {
    const chosen = items.filter((i) => selected.has(i.id) && TARGET[status].includes(i.status));
    const results = await Promise.allSettled(chosen.map((i) => patch(`/api/v1/incidents/${i.id}`, { status })));
    const failed = results.filter((r) => r.status === "rejected").length;
    const verb = status === "acknowledged" ? "acknowledged" : "resolved";
    setMessage(`${chosen.length - failed} ${verb}${failed ? `, ${failed} refused` : ""}` +
      (selected.size > chosen.length ? `, ${selected.size - chosen.length} skipped (already ${verb})` : ""));
    onDone();
  };
  return html`<div class="bulk" role="group" aria-label="With the selected incidents">
    <span>${selected.size} selected</span>
    <button type="button" disabled=${!selected.size} onClick=${() => run("acknowledged")}>Acknowledge</button>
    <button type="button" disabled=${!selected.size} onClick=${() => run("resolved")}>Resolve</button>
    ${message ? html`<span role="status">${message}</span>` : null}
  </div>`;
}

function Table({ items, selected, toggle, selectable }) {
  const all = items.length > 0 && items.every((i) => selected.has(i.id));
  return html`<div class="table-wrap"><table class="list">
    <caption class="sr-only">Incidents</caption>
    <thead><tr>
      ${selectable ? html`<th scope="col"><input type="checkbox" aria-label="Select all on this page"
        checked=${all} onChange=${() => toggle(all ? [] : items.map((i) => i.id), true)} /></th>` : null}
      <th scope="col">Incident</th><th scope="col">Severity</th><th scope="col">Status</th>
      <th scope="col" class="hide-narrow">Service</th><th scope="col" class="hide-narrow">Assignee</th>
      <th scope="col">Opened</th>
    </tr></thead>
    <tbody>${items.map((i) => html`<tr>
      ${selectable ? html`<td><input type="checkbox" aria-label=${`Select incident ${i.id}`}
        checked=${selected.has(i.id)} onChange=${() => toggle([i.id])} /></td>` : null}
      <td><a href=${`/incidents/${i.id}`}>#${i.id} ${i.title}</a></td>
      <td><${Badge} kind="sev" value=${i.severity} /></td>
      <td><${Badge} kind="status" value=${i.status} /></td>
      <td class="hide-narrow">${i.service}</td><td class="hide-narrow">${i.assignee || "—"}</td>
      <td><${Age} value=${i.created_at} /></td>
    </tr>`)}</tbody>
  </table></div>`;
}

export function Incidents({ me, search }) {
  useEffect(() => {
    document.title = "Incidents · Klaxon";
  }, []);
  const params = paramsOf(search);
  const list = useData(() => get("/api/v1/incidents", { limit: 50, ...params }), [search]);
  const catalog = useData(loadCatalog, []);
  const [selected, setSelected] = useState(new Set());
  const toggle = (ids, replace = false) => setSelected((s) => {
    const next = replace ? new Set() : new Set(s);
    for (const id of ids) if (!replace && next.has(id)) next.delete(id); else next.add(id);
    return next;
  });
  const items = (list.data && list.data.items) || [];
  const selectable = canRespond(me);
  const next = list.data && list.data.next_cursor;
  return html`<h1>Incidents</h1>
    <${Filters} params=${params} catalog=${catalog.data || { teams: [], services: [], people: [] }} />
    <${ErrorBox} error=${list.error} />
    ${selectable ? html`<${Bulk} selected=${selected} items=${items}
      onDone=${() => { setSelected(new Set()); list.reload(); }} />` : null}
    ${list.loading && !list.data ? html`<${Loading} />` : items.length
      ? html`<${Table} items=${items} selected=${selected} toggle=${toggle} selectable=${selectable} />`
      : html`<${Empty}>No incident matches these filters.</${Empty}>`}
    <nav class="pager" aria-label="Pages">
      ${params.cursor ? html`<a class="button" href=${urlOf({ ...params, cursor: undefined })}>First page</a>` : null}
      ${next ? html`<a class="button" href=${urlOf({ ...params, cursor: next })}>Next page</a>` : null}
    </nav>`;
}
