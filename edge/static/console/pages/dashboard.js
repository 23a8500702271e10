// The dashboard: what is burning (mine first), how fast we answer, who is on call, today.
import { html, useEffect } from "../lib.js";
import { get, optional, enc } from "../api.js";
import { daysAgo, localMidnight, duration } from "../format.js";
import { useData, Loading, ErrorBox, Empty, SEVERITIES } from "../ui.js";
import { IncidentList } from "./incidents.js";

const ACTIVE = ["open", "acknowledged", "in_progress"];

export const isMine = (me, incident) =>
  !!incident.assignee && (incident.assignee === me.name || incident.assignee === me.email);

async function activeIncidents() {
  const pages = await Promise.all(ACTIVE.map((status) => get("/api/v1/incidents", { status, limit: 200 })));
  return pages.flatMap((p) => p.items).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
}

export async function myTeams(me) {
  const person = await optional(`/api/v1/people/${enc(me.email)}`, undefined, { rotations: [] });
  const teams = new Set([...(person.rotations || []).map((r) => r.team), ...(me.managed_teams || [])]);
  return [...teams].sort();
}

async function oncallNow(me) {
  let teams = await myTeams(me);
  let mine = true;
  if (!teams.length) {
    const schedules = await get("/api/v1/schedules");
    teams = schedules.items.map((s) => s.team).sort();
    mine = false;
  }
  const current = await Promise.all(teams.map((team) => get("/api/v1/oncall/current", { team })));
  return { mine, current };
}

function Counts({ incidents }) {
  return html`<ul class="counts" aria-label="Open incidents by severity">
    ${SEVERITIES.map((sev) => {
      const n = incidents.filter((i) => i.severity === sev).length;
      return html`<li class=${`count sev-${sev}${n ? " lit" : ""}`}>
        <a href=${`/incidents?severity=${sev}&status=open`}><span class="n">${n}</span>
        <span class="label">${sev}</span></a></li>`;
    })}
  </ul>`;
}

function Speed({ analytics }) {
  const a = analytics.data;
  return html`<section class="card" aria-labelledby="speed-title">
    <h2 id="speed-title">Last 7 days</h2>
    ${analytics.loading && !a ? html`<${Loading} />` : null}
    ${a === null ? html`<${Empty}>No analytics on this platform yet.</${Empty}>` : null}
    ${a ? html`<dl class="stats">
      <div><dt>MTTA</dt><dd data-testid="mtta">${duration(a.mtta_seconds)}</dd></div>
      <div><dt>MTTR</dt><dd data-testid="mttr">${duration(a.mttr_seconds)}</dd></div>
      <div><dt>Opened</dt><dd>${(a.daily || []).reduce((s, d) => s + d.opened, 0)}</dd></div>
    </dl><p><a href="/metrics-overview">All metrics</a></p>` : null}
  </section>`;
}

function Person({ who }) {
  if (!who) return html`<span class="muted">nobody</span>`;
  return html`<span>${who.name || who.email}</span>`;
}

function OncallNow({ oncall }) {
  const d = oncall.data;
  return html`<section class="card" aria-labelledby="oncall-title">
    <h2 id="oncall-title">On call now${d && !d.mine ? " (all teams)" : ""}</h2>
    <${ErrorBox} error=${oncall.error} />
    ${!d ? html`<${Loading} />` : d.current.length === 0 ? html`<${Empty}>No teams yet.</${Empty}>`
      : html`<ul class="plain oncall-now">${d.current.map((c) => html`<li>
          <a href=${`/teams/${enc(c.team)}`}>${c.team}</a>${": "}<span class="muted">primary</span>${" "}<strong><${Person} who=${c.primary} /></strong>${", "}<span class="muted">secondary</span>${" "}<${Person} who=${c.secondary} />
        </li>`)}</ul>`}
    <p><a href="/oncall">Schedules and shifts</a></p>
  </section>`;
}

export function Dashboard({ me }) {
  const active = useData(activeIncidents, []);
  const open = active.data ? active.data.length : 0;
  useEffect(() => {
    document.title = `${open ? `(${open}) ` : ""}Dashboard · Klaxon`; // the count shows on the tab
  }, [open]);
  const analytics = useData(() => optional("/api/v1/analytics", { since: daysAgo(7) }), []);
  const oncall = useData(() => oncallNow(me), [me.email]);
  const today = useData(() => get("/api/v1/incidents", { since: localMidnight(), limit: 100 }), []);
  const incidents = active.data || [];
  const mine = incidents.filter((i) => isMine(me, i));
  const others = incidents.filter((i) => !isMine(me, i));
  return html`<h1>Dashboard</h1>
    <${ErrorBox} error=${active.error} />
    <${Counts} incidents=${incidents} />
    <div class="grid">
      <section class="card wide" aria-labelledby="mine-title">
        <h2 id="mine-title">Assigned to me (${mine.length})</h2>
        ${active.loading && !active.data ? html`<${Loading} />` : mine.length
          ? html`<${IncidentList} items=${mine} />` : html`<${Empty}>Nothing open is assigned to you.</${Empty}>`}
      </section>
      <section class="card wide" aria-labelledby="open-title">
        <h2 id="open-title">Open incidents (${incidents.length})</h2>
        ${SEVERITIES.map((sev) => {
          const items = others.filter((i) => i.severity === sev);
          return items.length ? html`<h3 class=${`sev-head sev-${sev}`}>${sev} (${items.length})</h3>
            <${IncidentList} items=${items} />` : null;
        })}
        ${!active.loading && !others.length ? html`<${Empty}>No other open incident.</${Empty}>` : null}
      </section>
      <${Speed} analytics=${analytics} />
      <${OncallNow} oncall=${oncall} />
      <section class="card wide" aria-labelledby="today-title">
        <h2 id="today-title">Opened today (${today.data ? today.data.items.length : "…"})</h2>
        <${ErrorBox} error=${today.error} />
        ${today.data ? today.data.items.length ? html`<${IncidentList} items=${today.data.items} />`
          : html`<${Empty}>Quiet day so far.</${Empty}>` : html`<${Loading} />`}
      </section>
    </div>`;
}
