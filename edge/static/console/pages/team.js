// A team: its schedule and escalation policy, read by all, edited by admins and its managers.
import { html, useState, useEffect } from "../lib.js";
import { get, post } from "../api.js";
import { useData, ErrorBox, Loading, Empty, Field, canManage, isAdmin } from "../ui.js";

const clone = (x) => JSON.parse(JSON.stringify(x));

// Members go back by name, e-mail and role only: their zones and contact methods are
// theirs (the profile page), and what a schedule leaves out the server keeps. The team's
// default contact methods are shown without their secrets, so they are not sent back.
function scheduleBody(s) {
  const { id, default_contact_methods, ...body } = s; // eslint-disable-line no-unused-vars
  return { ...body, members: s.members.map(({ name, email, role }) => ({ name, email, role })) };
}

function Input({ label, value, onInput, error, type = "text", ...rest }) {
  return html`<${Field} label=${label} error=${error}>${(id, err) => html`<input id=${id} type=${type}
    value=${value ?? ""} aria-invalid=${error ? "true" : undefined} aria-describedby=${err} ...${rest}
    onInput=${(e) => onInput(type === "number" ? Number(e.target.value) : e.target.value)} />`}</${Field}>`;
}

function Choice({ label, value, options, onChange, error }) {
  return html`<${Field} label=${label} error=${error}>${(id, err) => html`<select id=${id} value=${value}
    aria-describedby=${err} onChange=${(e) => onChange(e.target.value)}>
    ${options.map((o) => html`<option value=${o}>${o}</option>`)}</select>`}</${Field}>`;
}

function ScheduleView({ s }) {
  return html`<dl class="facts">
    <div><dt>Rotation</dt><dd>${s.rotation_type}, every ${s.interval || 1}</dd></div>
    <div><dt>Handoff</dt><dd>${s.handoff_time} ${s.time_zone}</dd></div>
    <div><dt>Since</dt><dd>${s.start_date || "—"}</dd></div>
    <div><dt>Services</dt><dd>${(s.services || []).join(", ") || "—"}</dd></div>
    <div><dt>Managers</dt><dd>${(s.managers || []).join(", ") || "—"}</dd></div>
  </dl>
  <div class="table-wrap"><table class="list"><caption class="sr-only">Members</caption>
    <thead><tr><th scope="col">Member</th><th scope="col">E-mail</th><th scope="col">Layer</th></tr></thead>
    <tbody>${s.members.map((m) => html`<tr><td>${m.name}</td><td>${m.email}</td><td>${m.role}</td></tr>`)}</tbody>
  </table></div>`;
}

function MemberRow({ m, i, errors, update, remove, move, count }) {
  const e = (f) => errors[`members.${i}.${f}`];
  return html`<fieldset class="row">
    <legend>Member ${i + 1}</legend>
    <${Input} label="Name" value=${m.name} error=${e("name")} onInput=${(v) => update(i, { name: v })} />
    <${Input} label="E-mail" type="email" value=${m.email} error=${e("email")} onInput=${(v) => update(i, { email: v })} />
    <${Choice} label="Layer" value=${m.role} options=${["primary", "secondary"]} error=${e("role")}
      onChange=${(v) => update(i, { role: v })} />
    <div class="actions">
      <button type="button" class="small" disabled=${i === 0} onClick=${() => move(i, -1)}
        aria-label=${`Move member ${i + 1} up`}>↑</button>
      <button type="button" class="small" disabled=${i === count - 1} onClick=${() => move(i, 1)}
        aria-label=${`Move member ${i + 1} down`}>↓</button>
      <button type="button" class="small danger" onClick=${() => remove(i)}
        aria-label=${`Remove member ${i + 1}`}>Remove</button>
    </div>
  </fieldset>`;
}

function ScheduleEditor({ schedule, me, onSaved, onCancel }) {
  const [s, setS] = useState(clone(schedule));
  const [error, setError] = useState(null);
  const errors = (error && error.fields) || {};
  const set = (patch) => setS((x) => ({ ...x, ...patch }));
  const update = (i, patch) => set({ members: s.members.map((m, j) => (j === i ? { ...m, ...patch } : m)) });
  const remove = (i) => set({ members: s.members.filter((_, j) => j !== i) });
  const move = (i, d) => {
    const members = [...s.members];
    [members[i], members[i + d]] = [members[i + d], members[i]];
    set({ members });
  };
  const add = () => set({ members: [...s.members, { name: "", email: "", role: "primary" }] });
  const list = (v) => v.split(",").map((x) => x.trim()).filter(Boolean);
  const save = async (event) => {
    event.preventDefault();
    try {
      await post("/api/v1/schedules", scheduleBody(s));
      setError(null);
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="form editor" aria-label="Edit schedule" onSubmit=${save} novalidate>
    <${Choice} label="Rotation" value=${s.rotation_type} options=${["hourly", "daily", "weekly"]}
      error=${errors.rotation_type} onChange=${(v) => set({ rotation_type: v })} />
    <${Input} label="Every (periods)" type="number" min="1" value=${s.interval || 1} error=${errors.interval}
      onInput=${(v) => set({ interval: v })} />
    <${Input} label="Handoff time" value=${s.handoff_time} error=${errors.handoff_time} placeholder="09:00"
      onInput=${(v) => set({ handoff_time: v })} />
    <${Input} label="Time zone" value=${s.time_zone} error=${errors.time_zone} onInput=${(v) => set({ time_zone: v })} />
    <${Input} label="Start date" type="date" value=${s.start_date} error=${errors.start_date}
      onInput=${(v) => set({ start_date: v })} />
    <${Input} label="Services (comma-separated)" value=${(s.services || []).join(", ")} error=${errors.services}
      onInput=${(v) => set({ services: list(v) })} />
    ${isAdmin(me) ? html`<${Input} label="Managers (e-mails, comma-separated)" value=${(s.managers || []).join(", ")}
      error=${errors.managers} onInput=${(v) => set({ managers: list(v) })} />` : null}
    ${errors.members ? html`<p class="field-error">${errors.members}</p>` : null}
    ${s.members.map((m, i) => html`<${MemberRow} m=${m} i=${i} errors=${errors} update=${update} remove=${remove}
      move=${move} count=${s.members.length} />`)}
    <button type="button" onClick=${add}>Add member</button>
    ${error && !Object.keys(errors).length ? html`<${ErrorBox} error=${error} />` : null}
    ${error && Object.keys(errors).length ? html`<p class="error" role="alert">Not saved: see the fields marked.</p>` : null}
    <div class="actions"><button type="submit" class="primary">Save schedule</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

function targetText(t) {
  if (t.type === "layer") return `${t.layer} on call`;
  if (t.type === "person") return t.email;
  return "the whole team";
}

function PolicyView({ p }) {
  return html`<p>${p.name || "Escalation"}${p.default ? " (the default)" : ""}; repeats ${p.repeat || 0} time(s).</p>
    <ol class="steps">${p.steps.map((st) => html`<li>Page ${st.targets.map(targetText).join(", ")}; wait ${st.delay_minutes} min</li>`)}</ol>`;
}

function TargetRow({ t, i, k, errors, change, remove }) {
  const e = (f) => errors[`steps.${i}.targets.${k}.${f}`] || (f === "type" ? errors[`steps.${i}.targets.${k}`] : null);
  return html`<div class="row target">
    <${Choice} label=${`Step ${i + 1} target ${k + 1}`} value=${t.type} options=${["layer", "person", "team"]}
      error=${e("type")} onChange=${(v) => change({ type: v, ...(v === "layer" ? { layer: "primary" } : v === "person" ? { email: "" } : {}) })} />
    ${t.type === "layer" ? html`<${Choice} label="Layer" value=${t.layer} options=${["primary", "secondary"]}
      error=${e("layer")} onChange=${(v) => change({ type: "layer", layer: v })} />` : null}
    ${t.type === "person" ? html`<${Input} label="E-mail" type="email" value=${t.email} error=${e("email")}
      onInput=${(v) => change({ type: "person", email: v })} />` : null}
    <button type="button" class="small danger" onClick=${remove}
      aria-label=${`Remove target ${k + 1} of step ${i + 1}`}>Remove</button>
  </div>`;
}

function PolicyEditor({ team, policy, onSaved, onCancel }) {
  const [p, setP] = useState(clone(policy || { team, repeat: 0, steps: [{ delay_minutes: 15, targets: [{ type: "layer", layer: "primary" }] }] }));
  const [error, setError] = useState(null);
  const errors = (error && error.fields) || {};
  const steps = (f) => setP((x) => ({ ...x, steps: f(x.steps) }));
  const setStep = (i, patch) => steps((ss) => ss.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const setTarget = (i, k, t) => setStep(i, { targets: p.steps[i].targets.map((x, j) => (j === k ? t : x)) });
  const save = async (event) => {
    event.preventDefault();
    const { default: _default, ...body } = p; // eslint-disable-line no-unused-vars
    try {
      await post("/api/v1/escalation_policies", { ...body, team });
      setError(null);
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="form editor" aria-label="Edit escalation policy" onSubmit=${save} novalidate>
    <${Input} label="Policy name" value=${p.name} error=${errors.name} onInput=${(v) => setP({ ...p, name: v })} />
    <${Input} label="Repeat" type="number" min="0" max="10" value=${p.repeat || 0} error=${errors.repeat}
      onInput=${(v) => setP({ ...p, repeat: v })} />
    ${errors.steps ? html`<p class="field-error">${errors.steps}</p>` : null}
    ${p.steps.map((st, i) => html`<fieldset class="row step"><legend>Step ${i + 1}</legend>
      <${Input} label=${`Step ${i + 1} delay (minutes)`} type="number" min="0" value=${st.delay_minutes}
        error=${errors[`steps.${i}.delay_minutes`]} onInput=${(v) => setStep(i, { delay_minutes: v })} />
      ${errors[`steps.${i}.targets`] ? html`<p class="field-error">${errors[`steps.${i}.targets`]}</p>` : null}
      ${st.targets.map((t, k) => html`<${TargetRow} t=${t} i=${i} k=${k} errors=${errors}
        change=${(nt) => setTarget(i, k, nt)} remove=${() => setStep(i, { targets: st.targets.filter((_, j) => j !== k) })} />`)}
      <div class="actions">
        <button type="button" class="small" onClick=${() => setStep(i, { targets: [...st.targets, { type: "team" }] })}>Add target</button>
        <button type="button" class="small danger" onClick=${() => steps((ss) => ss.filter((_, j) => j !== i))}
          aria-label=${`Remove step ${i + 1}`}>Remove step</button>
      </div></fieldset>`)}
    <button type="button" onClick=${() => steps((ss) => [...ss, { delay_minutes: 15, targets: [{ type: "team" }] }])}>Add step</button>
    ${error && !Object.keys(errors).length ? html`<${ErrorBox} error=${error} />` : null}
    ${error && Object.keys(errors).length ? html`<p class="error" role="alert">Not saved: see the fields marked.</p>` : null}
    <div class="actions"><button type="submit" class="primary">Save policy</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

async function loadTeam(team) {
  const [schedules, policies] = await Promise.all([get("/api/v1/schedules"), get("/api/v1/escalation_policies")]);
  return {
    schedule: schedules.items.find((s) => s.team === team) || null,
    policy: policies.items.find((p) => p.team === team) || null,
  };
}

export function Team({ me, params }) {
  const team = params.team;
  useEffect(() => {
    document.title = `${team} · Klaxon`;
  }, [team]);
  const data = useData(() => loadTeam(team), [team]);
  const [editing, setEditing] = useState(null);
  const [saved, setSaved] = useState(null);
  const mayEdit = canManage(me, team);
  const d = data.data;
  const done = (what) => {
    setEditing(null);
    setSaved(`${what} saved.`);
    data.reload();
  };
  return html`<p class="crumbs"><a href="/oncall">On call</a></p><h1>Team ${team}</h1>
    <${ErrorBox} error=${data.error} />
    ${saved ? html`<p class="ok" role="status">${saved}</p>` : null}
    ${!d ? html`<${Loading} />` : html`<div class="grid">
      <section class="card wide" aria-labelledby="schedule-title"><h2 id="schedule-title">Schedule</h2>
        ${!d.schedule ? html`<${Empty}>This team has no schedule.</${Empty}>` : editing === "schedule"
          ? html`<${ScheduleEditor} schedule=${d.schedule} me=${me} onSaved=${() => done("Schedule")} onCancel=${() => setEditing(null)} />`
          : html`<${ScheduleView} s=${d.schedule} />
            ${mayEdit ? html`<button type="button" onClick=${() => setEditing("schedule")}>Edit schedule</button>` : null}`}
      </section>
      <section class="card wide" aria-labelledby="policy-title"><h2 id="policy-title">Escalation policy</h2>
        ${editing === "policy"
          ? html`<${PolicyEditor} team=${team} policy=${d.policy} onSaved=${() => done("Policy")} onCancel=${() => setEditing(null)} />`
          : html`${d.policy ? html`<${PolicyView} p=${d.policy} />` : html`<${Empty}>No policy: primary, secondary, then the whole team, 15 minutes apart.</${Empty}>`}
            ${mayEdit ? html`<button type="button" onClick=${() => setEditing("policy")}>Edit policy</button>` : null}`}
      </section></div>`}`;
}
