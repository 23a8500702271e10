// My profile: name, time zone, contact methods with their delays, password, API tokens.
import { html, useState, useEffect } from "../lib.js";
import { get, post, patch, del, enc } from "../api.js";
import { useData, ErrorBox, Loading, Empty, Field, Secret, Age } from "../ui.js";
import { ChangePassword } from "./login.js";

const CHANNELS = ["email", "slack", "webhook"];
const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

function MethodRow({ m, i, errors, update, remove }) {
  const e = (f) => errors[`contact_methods.${i}.${f}`];
  return html`<fieldset class="row"><legend>Contact method ${i + 1}</legend>
    <${Field} label="Type" error=${e("type")}>${(id) => html`<select id=${id} value=${m.type}
      onChange=${(ev) => update(i, { type: ev.target.value })}>${CHANNELS.map((c) => html`<option value=${c}>${c}</option>`)}</select>`}</${Field}>
    <${Field} label="Address" error=${e("address")} hint=${m.type === "email" ? "Empty: your sign-in e-mail" : null}>${(id) => html`<input
      id=${id} value=${m.address || ""} onInput=${(ev) => update(i, { address: ev.target.value })} />`}</${Field}>
    <${Field} label="After (minutes)" error=${e("delay_minutes")}>${(id) => html`<input id=${id} type="number" min="0"
      value=${m.delay_minutes || 0} onInput=${(ev) => update(i, { delay_minutes: Number(ev.target.value) })} />`}</${Field}>
    <div class="actions"><button type="button" class="small danger" onClick=${() => remove(i)}
      aria-label=${`Remove contact method ${i + 1}`}>Remove</button></div>
  </fieldset>`;
}

function clean(methods) {
  return methods.map((m) => {
    const out = { type: m.type, delay_minutes: m.delay_minutes || 0 };
    if (m.address) out.address = m.address;
    if (m.secret) out.secret = m.secret;
    return out;
  });
}

function Person({ me, person, onSaved }) {
  const [name, setName] = useState(person.name || "");
  const [zone, setZone] = useState(person.time_zone || "UTC");
  const [methods, setMethods] = useState(person.contact_methods || []);
  const [error, setError] = useState(null);
  const [ok, setOk] = useState(false);
  const errors = (error && error.fields) || {};
  const update = (i, p) => setMethods(methods.map((m, j) => (j === i ? { ...m, ...p } : m)));
  const save = async (event) => {
    event.preventDefault();
    setOk(false);
    try {
      await patch(`/api/v1/people/${enc(me.email)}`, { name, time_zone: zone, contact_methods: clean(methods) });
      setError(null);
      setOk(true);
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="card form" aria-labelledby="me-title" onSubmit=${save}>
    <h2 id="me-title">About me</h2>
    <p class="muted">${me.email} · ${me.role}</p>
    <${Field} label="Name" error=${errors.name}>${(id) => html`<input id=${id} value=${name}
      onInput=${(e) => setName(e.target.value)} />`}</${Field}>
    <${Field} label="Time zone" error=${errors.time_zone}>${(id) => html`<input id=${id} list="zones" value=${zone}
      onInput=${(e) => setZone(e.target.value)} />`}</${Field}>
    <datalist id="zones">${zones.map((z) => html`<option value=${z} />`)}</datalist>
    <h3>Contact methods</h3>
    ${methods.length ? null : html`<${Empty}>None: pages fall back to your team's defaults, or the log.</${Empty}>`}
    ${methods.map((m, i) => html`<${MethodRow} m=${m} i=${i} errors=${errors} update=${update}
      remove=${(k) => setMethods(methods.filter((_, j) => j !== k))} />`)}
    <button type="button" onClick=${() => setMethods([...methods, { type: "email", delay_minutes: 0 }])}>Add contact method</button>
    ${error && !Object.keys(errors).length ? html`<${ErrorBox} error=${error} />` : null}
    ${ok ? html`<p class="ok" role="status">Saved.</p>` : null}
    <div class="actions"><button type="submit" class="primary">Save profile</button></div>
  </form>`;
}

function Tokens() {
  const list = useData(() => get("/api/v1/tokens"), []);
  const [name, setName] = useState("");
  const [role, setRole] = useState("");
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const create = async (event) => {
    event.preventDefault();
    try {
      setMade(await post("/api/v1/tokens", { name, ...(role ? { role } : {}) }));
      setName("");
      setError(null);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (id) => {
    try {
      await del(`/api/v1/tokens/${id}`);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const items = (list.data && list.data.items) || [];
  return html`<section class="card" aria-labelledby="tokens-title"><h2 id="tokens-title">API tokens</h2>
    ${made ? html`<${Secret} title=${`Token ${made.name}:`} value=${made.token}>
      <button type="button" onClick=${() => setMade(null)}>I have copied it</button></${Secret}>` : null}
    <form class="form inline" onSubmit=${create} aria-label="New API token">
      <${Field} label="Token name">${(id) => html`<input id=${id} required value=${name} onInput=${(e) => setName(e.target.value)} />`}</${Field}>
      <${Field} label="Acts as">${(id) => html`<select id=${id} value=${role} onChange=${(e) => setRole(e.target.value)}>
        <option value="">my role</option><option value="viewer">viewer</option><option value="responder">responder</option>
        <option value="admin">admin</option></select>`}</${Field}>
      <div class="actions"><button type="submit" class="primary">Create token</button></div>
    </form>
    <${ErrorBox} error=${error || list.error} />
    ${list.loading && !list.data ? html`<${Loading} />` : items.length ? html`<ul class="plain tokens">${items.map((t) => html`<li>
      <code>${t.prefix}…</code> ${t.name} <span class="muted">${t.role || "my role"}, made <${Age} value=${t.created_at} />
      ${t.last_used_at ? html`, used <${Age} value=${t.last_used_at} />` : ""}</span>
      ${t.revoked_at ? html` <span class="muted">revoked</span>` : html` <button type="button" class="small"
        aria-label=${`Revoke token ${t.name}`} onClick=${() => revoke(t.id)}>Revoke</button>`}</li>`)}</ul>`
      : html`<${Empty}>No token.</${Empty}>`}
  </section>`;
}

export function Profile({ me, onMe }) {
  useEffect(() => {
    document.title = "Profile · Klaxon";
  }, []);
  const person = useData(() => get(`/api/v1/people/${enc(me.email)}`).catch((e) => {
    if (e.status === 404) return { name: me.name, time_zone: me.time_zone, contact_methods: me.contact_methods || [] };
    throw e;
  }), [me.email]);
  return html`<h1>Profile</h1>
    <${ErrorBox} error=${person.error} />
    <div class="grid">
      ${person.data ? html`<${Person} key=${me.email} me=${me} person=${person.data} onSaved=${onMe} />` : html`<${Loading} />`}
      <div class="card"><${ChangePassword} /></div>
      <${Tokens} />
    </div>`;
}
