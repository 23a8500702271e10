// People (admin): users, creating one (one-time password shown once), role, disabling.
import { html, useState, useEffect } from "../lib.js";
import { get, post, patch, enc } from "../api.js";
import { useData, ErrorBox, Loading, Field, Secret, isAdmin } from "../ui.js";

const ROLES = ["viewer", "responder", "admin"];

function CreateUser({ onCreated }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("responder");
  const [error, setError] = useState(null);
  const f = (error && error.fields) || {};
  const submit = async (event) => {
    event.preventDefault();
    try {
      const made = await post("/api/v1/users", { email, role, ...(name ? { name } : {}) });
      setError(null);
      setEmail("");
      setName("");
      onCreated(made);
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="card form" aria-labelledby="new-user" onSubmit=${submit}>
    <h2 id="new-user">New user</h2>
    <${Field} label="E-mail" error=${f.email}>${(id) => html`<input id=${id} type="email" required value=${email}
      onInput=${(e) => setEmail(e.target.value)} />`}</${Field}>
    <${Field} label="Name (optional)" error=${f.name}>${(id) => html`<input id=${id} value=${name}
      onInput=${(e) => setName(e.target.value)} />`}</${Field}>
    <${Field} label="Role" error=${f.role}>${(id) => html`<select id=${id} value=${role}
      onChange=${(e) => setRole(e.target.value)}>${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>`}</${Field}>
    ${error && !Object.keys(f).length ? html`<${ErrorBox} error=${error} />` : null}
    <div class="actions"><button type="submit" class="primary">Create user</button></div>
  </form>`;
}

function UserRow({ user, me, onChanged, onError }) {
  const change = async (body) => {
    try {
      await patch(`/api/v1/users/${enc(user.email)}`, body);
      onChanged();
    } catch (e) {
      onError(e);
    }
  };
  const self = user.email === me.email;
  return html`<tr>
    <td>${user.name}<br /><span class="muted">${user.email}</span></td>
    <td><select aria-label=${`Role of ${user.email}`} value=${user.role} disabled=${self}
      onChange=${(e) => change({ role: e.target.value })}>${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select></td>
    <td class="hide-narrow">${(user.managed_teams || []).join(", ") || "—"}</td>
    <td>${user.disabled ? "disabled" : user.has_login ? "active" : "no login"}</td>
    <td>${self ? html`<span class="muted">you</span>` : html`<button type="button" class="small"
      onClick=${() => change({ disabled: !user.disabled })}>${user.disabled ? "Enable" : "Disable"} ${user.email}</button>`}</td>
  </tr>`;
}

export function People({ me }) {
  useEffect(() => {
    document.title = "People · Klaxon";
  }, []);
  if (!isAdmin(me)) return html`<h1>People</h1><p>Only admins manage users.</p>`;
  return html`<${Users} me=${me} />`;
}

function Users({ me }) {
  const users = useData(() => get("/api/v1/users"), []);
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const items = (users.data && users.data.items) || [];
  const password = made && (made.one_time_password || made.password || made.temporary_password);
  return html`<h1>People</h1>
    ${made ? html`<${Secret} title=${`One-time password of ${made.email || (made.user && made.user.email)}:`}
      value=${password || JSON.stringify(made)}>
      <p>They must choose their own at first sign-in.</p>
      <button type="button" onClick=${() => setMade(null)}>Done</button></${Secret}>` : null}
    <${CreateUser} onCreated=${(m) => { setMade(m); users.reload(); }} />
    <section class="card" aria-labelledby="users-title"><h2 id="users-title">Users</h2>
      <${ErrorBox} error=${users.error || error} />
      ${users.loading && !users.data ? html`<${Loading} />` : html`<div class="table-wrap"><table class="list">
        <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col" class="hide-narrow">Manages</th>
          <th scope="col">Login</th><th scope="col">Actions</th></tr></thead>
        <tbody>${items.map((u) => html`<${UserRow} key=${u.email} user=${u} me=${me} onError=${setError}
          onChanged=${() => { setError(null); users.reload(); }} />`)}</tbody></table></div>`}
    </section>`;
}
