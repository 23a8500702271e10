// Live updates: server-sent events from /api/v1/events; every event (debounced) asks
// what the page shows to refetch, a reconnect refetches everything, and when the stream
// keeps failing the console polls every 5 s until it is back.
const KINDS = [
  "incident_opened", "incident_acknowledged", "incident_resolved", "incident_reopened",
  "incident_updated", "incident_escalated", "notification_delivered", "notification_failed",
  "reset", "message",
];
const listeners = new Set();
let timer = null;
let source = null;
let poller = null;
let failures = 0;
let hadError = false;
let retry = null;
export const status = { mode: "connecting", listeners: new Set() };

function setMode(mode) {
  status.mode = mode;
  status.listeners.forEach((fn) => fn(mode));
}

export function onLive(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function refreshAll() {
  clearTimeout(timer);
  timer = setTimeout(() => listeners.forEach((fn) => fn()), 300);
}

function startPolling() {
  if (!poller) poller = setInterval(() => listeners.forEach((fn) => fn()), 5000);
  setMode("polling");
}

function stopPolling() {
  clearInterval(poller);
  poller = null;
}

function opened() {
  failures = 0;
  stopPolling();
  setMode("live");
  if (hadError) refreshAll();
  hadError = false;
}

function failed() {
  hadError = true;
  failures += 1;
  if (source && source.readyState === EventSource.CLOSED) {
    source = null;
    clearTimeout(retry);
    retry = setTimeout(connect, 30000);
    startPolling();
  } else if (failures >= 2) {
    startPolling();
  }
}

function connect() {
  if (source || typeof EventSource === "undefined") {
    if (!source) startPolling();
    return;
  }
  source = new EventSource("/api/v1/events");
  source.addEventListener("open", opened);
  source.addEventListener("error", failed);
  for (const kind of KINDS) source.addEventListener(kind, refreshAll);
}

export function startLive() {
  connect();
}

export function stopLive() {
  if (source) source.close();
  source = null;
  stopPolling();
  clearTimeout(retry);
}
