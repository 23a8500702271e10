// On call: who now and next per team, a two-week shift timeline with overrides, covering a
// shift, my own shifts and a calendar link.
import { html, useState, useEffect } from "../lib.js";
import { get, post, del, enc } from "../api.js";
import { fmt, toZoneInput, fromZoneInput, currentZone } from "../format.js";
import { useData, ErrorBox, Loading, Empty, Field, Time, Copy, canRespond } from "../ui.js";

const DAY = 86400000;
const SPAN = 14 * DAY;

function windowStart() {
  const d = new Date();
  d.setMinutes(0, 0, 0);
  return d.getTime() - 12 * 3600000;
}

async function loadTeam(team) {
  const [current, upcoming, overrides] = await Promise.all([
    get("/api/v1/oncall/current", { team }),
    get("/api/v1/oncall/upcoming", { team, count: 60 }),
    get("/api/v1/overrides", { team }),
  ]);
  return { current, upcoming, overrides: overrides.items || [] };
}

const who = (p) => (p ? p.name || p.email : "nobody");
const range = (s) => `${fmt(s.start)} – ${fmt(s.end)}`;

function Block({ item, start, className, label, onClick, text }) {
  const from = Math.max(new Date(item.start).getTime(), start);
  const to = Math.min(new Date(item.end).getTime(), start + SPAN);
  if (to <= from) return null;
  const style = { left: `${((from - start) / SPAN) * 100}%`, width: `${((to - from) / SPAN) * 100}%` };
  if (!onClick) return html`<span class=${className} style=${style} title=${label}>${text}</span>`;
  return html`<button type="button" class=${className} style=${style} title=${label} aria-label=${label}
    onClick=${onClick}>${text}</button>`;
}

function Ticks({ start }) {
  const days = [];
  for (let t = start - (start % DAY) + DAY; t < start + SPAN; t += DAY) days.push(t);
  return html`<div class="ticks" aria-hidden="true">${days.map((t, i) => html`<span class="tick"
    style=${{ left: `${((t - start) / SPAN) * 100}%` }}>${i % 2 ? "" : fmt(new Date(t), "day")}</span>`)}</div>`;
}

function ShiftTimeline({ team, data, onCover, mayCover }) {
  const start = windowStart();
  const now = Date.now();
  const layers = Object.keys(data.upcoming).filter((k) => Array.isArray(data.upcoming[k]));
  return html`<div class="timeline-wrap" role="group" aria-label=${`Shifts of ${team}, next two weeks`}>
    <div class="shift-grid">
      <${Ticks} start=${start} />
      ${layers.map((layer) => html`<div class="lane">
        <span class="lane-name">${layer}</span>
        <div class="lane-track">
          ${data.upcoming[layer].map((s) => html`<${Block} item=${s} start=${start} className="shift" text=${s.name}
            label=${`${mayCover ? "Cover a shift: " : ""}${s.name}, ${layer}, ${range(s)}`}
            onClick=${mayCover ? () => onCover({ team, layer, start: s.start, end: s.end, name: s.name }) : null} />`)}
          ${data.overrides.filter((o) => o.layer === layer).map((o) => html`<${Block} item=${o} start=${start}
            className="override" text=${`↺ ${o.name || o.email}`} label=${`Override: ${o.name || o.email} covers ${layer}, ${range(o)}`} />`)}
          <span class="now" style=${{ left: `${((now - start) / SPAN) * 100}%` }} aria-hidden="true"></span>
        </div>
      </div>`)}
    </div>
  </div>`;
}

function CoverForm({ shift, onDone, onCancel }) {
  const [email, setEmail] = useState("");
  const [from, setFrom] = useState(toZoneInput(shift.start));
  const [to, setTo] = useState(toZoneInput(shift.end));
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      await post("/api/v1/overrides", {
        team: shift.team, layer: shift.layer, email, start: fromZoneInput(from), end: fromZoneInput(to),
      });
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  const f = (error && error.fields) || {};
  return html`<form class="card form cover" aria-labelledby="cover-title" onSubmit=${submit}>
    <h3 id="cover-title">Cover a shift</h3>
    <p>${shift.team}, ${shift.layer}: ${shift.name}'s shift. Times in ${currentZone()}.</p>
    <${Field} label="Email of who covers" error=${f.email}>${(id) => html`<input id=${id} type="email" required
      autocomplete="off" value=${email} onInput=${(e) => setEmail(e.target.value)} />`}</${Field}>
    <${Field} label="From" error=${f.start}>${(id) => html`<input id=${id} type="datetime-local" required
      value=${from} onInput=${(e) => setFrom(e.target.value)} />`}</${Field}>
    <${Field} label="Until" error=${f.end}>${(id) => html`<input id=${id} type="datetime-local" required
      value=${to} onInput=${(e) => setTo(e.target.value)} />`}</${Field}>
    ${error && !Object.keys(f).length ? html`<${ErrorBox} error=${error} />` : null}
    <div class="actions"><button type="submit" class="primary">Save override</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

function Overrides({ items, mayEdit, onChanged }) {
  const upcoming = items.filter((o) => new Date(o.end).getTime() > Date.now());
  if (!upcoming.length) return null;
  return html`<h3>Overrides</h3><ul class="plain">${upcoming.map((o) => html`<li>
    ${o.name || o.email} covers ${o.layer}, ${range(o)}
    ${mayEdit && o.id ? html` <button type="button" class="small" aria-label=${`Remove the override of ${o.name || o.email}`}
      onClick=${async () => { await del(`/api/v1/overrides/${o.id}`); onChanged(); }}>Remove</button>` : null}
  </li>`)}</ul>`;
}

function TeamOncall({ team, me }) {
  const data = useData(() => loadTeam(team), [team]);
  const [cover, setCover] = useState(null);
  const mayCover = canRespond(me);
  const d = data.data;
  const next = (layer) => {
    const shifts = (d && d.upcoming[layer]) || [];
    return shifts.find((s) => new Date(s.start).getTime() > Date.now());
  };
  return html`<section class="card wide team-oncall" aria-labelledby=${`team-${team}`}>
    <h2 id=${`team-${team}`}><a href=${`/teams/${enc(team)}`}>${team}</a></h2>
    <${ErrorBox} error=${data.error} />
    ${!d ? html`<${Loading} />` : html`
      <dl class="facts now-next">
        <div><dt>Primary now</dt><dd data-testid=${`primary-${team}`}>${who(d.current.primary)}</dd></div>
        <div><dt>Secondary now</dt><dd data-testid=${`secondary-${team}`}>${who(d.current.secondary)}</dd></div>
        <div><dt>Next primary</dt><dd>${next("primary") ? html`${next("primary").name}, <${Time} value=${next("primary").start} />` : "—"}</dd></div>
        <div><dt>Next secondary</dt><dd>${next("secondary") ? html`${next("secondary").name}, <${Time} value=${next("secondary").start} />` : "—"}</dd></div>
      </dl>
      <${ShiftTimeline} team=${team} data=${d} mayCover=${mayCover} onCover=${setCover} />
      ${mayCover ? html`<p class="muted">Choose a shift on the timeline to cover it.</p>` : null}
      ${cover ? html`<${CoverForm} shift=${cover} onCancel=${() => setCover(null)}
        onDone=${() => { setCover(null); data.reload(); }} />` : null}
      <${Overrides} items=${d.overrides} mayEdit=${mayCover} onChanged=${data.reload} />`}
  </section>`;
}

function MyShifts({ me }) {
  const mine = useData(() => get(`/api/v1/people/${enc(me.email)}/upcoming`, { count: 10 }), [me.email]);
  const [feed, setFeed] = useState(null);
  const [error, setError] = useState(null);
  const subscribe = async () => {
    try {
      const made = await post("/api/v1/calendar_feeds", { email: me.email });
      setFeed(new URL(made.url, location.origin).href);
    } catch (e) {
      setError(e);
    }
  };
  const items = (mine.data && mine.data.items) || [];
  return html`<section class="card wide" aria-labelledby="my-shifts">
    <h2 id="my-shifts">My shifts</h2>
    <${ErrorBox} error=${mine.error || error} />
    ${mine.data ? items.length ? html`<ul class="plain">${items.map((s) => html`<li>
        <strong>${s.team}</strong> ${s.layer}: ${range(s)}</li>`)}</ul>`
      : html`<${Empty}>You have no upcoming shift.</${Empty}>` : html`<${Loading} />`}
    ${feed ? html`<div class="secret-row"><label for="ical">Calendar link (keep it secret)</label>
        <input id="ical" readonly value=${feed} /> <${Copy} text=${feed} /></div>`
      : html`<button type="button" onClick=${subscribe}>Get my iCal link</button>`}
  </section>`;
}

export function Oncall({ me }) {
  useEffect(() => {
    document.title = "On call · Klaxon";
  }, []);
  const schedules = useData(() => get("/api/v1/schedules"), []);
  const teams = schedules.data ? schedules.data.items.map((s) => s.team).sort() : [];
  return html`<h1>On call</h1>
    <${ErrorBox} error=${schedules.error} />
    <${MyShifts} me=${me} />
    ${!schedules.data ? html`<${Loading} />` : teams.length
      ? teams.map((team) => html`<${TeamOncall} key=${team} team=${team} me=${me} />`)
      : html`<${Empty}>No team has a schedule yet.</${Empty}>`}`;
}
