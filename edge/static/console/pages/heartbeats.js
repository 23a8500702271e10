// Heartbeat monitors: each one's state, when it last beat, and how long a silence it allows.
import { html, useEffect } from "../lib.js";
import { get } from "../api.js";
import { duration } from "../format.js";
import { useData, Badge, Age, ErrorBox, Loading, Empty } from "../ui.js";

export function every(monitor) {
  const grace = monitor.grace_seconds ? ` + ${duration(monitor.grace_seconds)} grace` : "";
  return `every ${duration(monitor.interval_seconds)}${grace}`;
}

export function Heartbeats() {
  useEffect(() => {
    document.title = "Heartbeats · Klaxon";
  }, []);
  const list = useData(() => get("/api/v1/heartbeats"), []);
  const items = (list.data && list.data.items) || [];
  return html`<h1>Heartbeats</h1>
    <p class="muted">A monitor that hears no beat for its interval and grace opens an alert for its service.</p>
    <${ErrorBox} error=${list.error} />
    ${list.loading && !list.data ? html`<${Loading} />` : items.length ? html`<div class="table-wrap"><table class="list heartbeats">
      <caption class="sr-only">Heartbeat monitors</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Service</th><th scope="col">State</th>
        <th scope="col">Last beat</th><th scope="col">Expected</th></tr></thead>
      <tbody>${items.map((m) => html`<tr key=${m.id}>
        <td>${m.name}</td><td>${m.service}</td><td><${Badge} kind="beat" value=${m.state} /></td>
        <td>${m.last_beat_at ? html`<${Age} value=${m.last_beat_at} />` : "never"}</td>
        <td>${every(m)}</td>
      </tr>`)}</tbody>
    </table></div>` : html`<${Empty}>No heartbeat monitor yet.</${Empty}>`}`;
}
