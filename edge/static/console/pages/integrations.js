// Integration keys (admin): list, create (the key shown once, with snippets), revoke.
import { html, useState, useEffect } from "../lib.js";
import { get, post, del } from "../api.js";
import { useData, ErrorBox, Loading, Empty, Field, Badge, Age, Secret, Snippet, isAdmin } from "../ui.js";

const KINDS = ["generic", "alertmanager", "grafana", "pagerduty", "any"];

export function snippets(base, key) {
  return [
    ["Alertmanager", `receivers:
  - name: klaxon
    webhook_configs:
      - url: ${base}/api/v1/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization: {credentials: ${key}}`],
    ["Grafana contact point", `Integration: Webhook
URL: ${base}/api/v1/integrations/grafana
HTTP method: POST
Authorization header - scheme: Bearer
Authorization header - credentials: ${key}`],
    ["PagerDuty client", `Base URL (events API): ${base}
Routing key: ${key}
# pdpyras: session = pdpyras.EventsAPISession("${key}"); session.url = "${base}"`],
    ["curl", `curl -s -X POST ${base}/api/v1/alerts \\
  -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' \\
  -d '{"service": "checkout-api", "severity": "high", "message": "Test alert from curl"}'`],
  ];
}

function CreateForm({ onCreated }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState("alertmanager");
  const [service, setService] = useState("");
  const [error, setError] = useState(null);
  const f = (error && error.fields) || {};
  const submit = async (event) => {
    event.preventDefault();
    try {
      const made = await post("/api/v1/integrations", { name, kind, ...(service ? { default_service: service } : {}) });
      setError(null);
      setName("");
      onCreated(made);
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="card form" aria-labelledby="new-int" onSubmit=${submit}>
    <h2 id="new-int">New integration</h2>
    <${Field} label="Name" error=${f.name}>${(id) => html`<input id=${id} required value=${name}
      onInput=${(e) => setName(e.target.value)} />`}</${Field}>
    <${Field} label="Kind" error=${f.kind}>${(id) => html`<select id=${id} value=${kind}
      onChange=${(e) => setKind(e.target.value)}>${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}</select>`}</${Field}>
    <${Field} label="Default service (optional)" error=${f.default_service}>${(id) => html`<input id=${id}
      value=${service} onInput=${(e) => setService(e.target.value)} />`}</${Field}>
    ${error && !Object.keys(f).length ? html`<${ErrorBox} error=${error} />` : null}
    <div class="actions"><button type="submit" class="primary">Create integration</button></div>
  </form>`;
}

function Row({ item, onRevoked }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState(null);
  const revoked = !!item.revoked_at;
  const revoke = async () => {
    try {
      await del(`/api/v1/integrations/${item.id}`);
      onRevoked();
    } catch (e) {
      setError(e);
    }
  };
  return html`<tr>
    <td>${item.name}</td><td>${item.kind}</td><td><code>${item.key_prefix}…</code></td>
    <td>${item.default_service || "—"}</td><td><${Age} value=${item.created_at} /></td>
    <td>${revoked ? html`<${Badge} kind="status" value="revoked" />` : confirm
      ? html`<button type="button" class="small danger" onClick=${revoke}>Confirm revoke ${item.name}</button>
        <button type="button" class="small" onClick=${() => setConfirm(false)}>Keep</button>`
      : html`<button type="button" class="small" onClick=${() => setConfirm(true)}
        aria-label=${`Revoke ${item.name}`}>Revoke</button>`}
      ${error ? html`<span class="error">${error.message}</span>` : null}</td>
  </tr>`;
}

export function Integrations({ me }) {
  useEffect(() => {
    document.title = "Integrations · Klaxon";
  }, []);
  if (!isAdmin(me)) return html`<h1>Integrations</h1><p>Only admins manage integration keys.</p>`;
  return html`<${IntegrationKeys} />`;
}

function IntegrationKeys() {
  const list = useData(() => get("/api/v1/integrations"), []);
  const [made, setMade] = useState(null);
  const items = (list.data && list.data.items) || [];
  const base = location.origin;
  return html`<h1>Integrations</h1>
    ${made ? html`<${Secret} title=${`Key of ${made.name}:`} value=${made.key}>
      ${snippets(base, made.key).map(([label, text]) => html`<${Snippet} label=${label} text=${text} />`)}
      <button type="button" onClick=${() => setMade(null)}>I have copied it</button>
    </${Secret}>` : null}
    <${CreateForm} onCreated=${(m) => { setMade(m); list.reload(); }} />
    <section class="card" aria-labelledby="int-list"><h2 id="int-list">Keys</h2>
      <${ErrorBox} error=${list.error} />
      ${list.loading && !list.data ? html`<${Loading} />` : items.length ? html`<div class="table-wrap"><table class="list">
        <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Key</th>
          <th scope="col">Default service</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
        <tbody>${items.map((i) => html`<${Row} key=${i.id} item=${i} onRevoked=${list.reload} />`)}</tbody>
      </table></div>` : html`<${Empty}>No integration yet: alerts come in without a key only when keyless ingestion is on.</${Empty}>`}
    </section>`;
}
