// Times in the signed-in person's time zone, and relative ages.
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
let formatters = {};

export function setZone(tz) {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    zone = tz || zone;
  } catch {
    /* an unknown zone keeps the browser's */
  }
  formatters = {};
}
export const currentZone = () => zone;

function formatter(kind) {
  if (!formatters[kind]) {
    const opts = {
      full: { dateStyle: "medium", timeStyle: "short" },
      time: { hour: "2-digit", minute: "2-digit" },
      day: { weekday: "short", day: "numeric", month: "short" },
    }[kind];
    formatters[kind] = new Intl.DateTimeFormat(undefined, { ...opts, timeZone: zone });
  }
  return formatters[kind];
}

export function fmt(value, kind = "full") {
  if (!value) return "—";
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : formatter(kind).format(d);
}

export function ago(value, now = Date.now()) {
  if (!value) return "";
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let text;
  if (s < 45) text = future ? "in a moment" : "just now";
  else if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86400) text = `${Math.round(s / 3600)} h`;
  else text = `${Math.round(s / 86400)} d`;
  if (s < 45) return text;
  return future ? `in ${text}` : `${text} ago`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? (s % 60) + " s" : ""}`.trim();
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h >= 48) return `${Math.round(h / 24)} d`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

// Midnight today in the person's zone, as an ISO instant.
export function localMidnight(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23",
  }).formatToParts(now);
  const n = (t) => Number(parts.find((p) => p.type === t).value);
  const since = (n("hour") * 3600 + n("minute") * 60 + n("second")) * 1000;
  return new Date(now.getTime() - since - now.getMilliseconds()).toISOString();
}

export const daysAgo = (days) => new Date(Date.now() - days * 86400000).toISOString();

// <input type="datetime-local"> value <-> ISO instant (the browser's local time).
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export const fromLocalInput = (value) => (value ? new Date(value).toISOString() : "");

// The same, in the signed-in person's zone rather than the browser's.
function offsetAt(instantMs) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
    hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23",
  }).formatToParts(new Date(instantMs));
  const n = (t) => Number(parts.find((p) => p.type === t).value);
  const wall = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return wall - Math.floor(instantMs / 1000) * 1000;
}

export function toZoneInput(iso) {
  if (!iso) return "";
  const ms = new Date(iso).getTime();
  return new Date(ms + offsetAt(ms)).toISOString().slice(0, 16);
}

export function fromZoneInput(value) {
  if (!value) return "";
  const wall = Date.parse(`${value}:00Z`);
  let guess = wall - offsetAt(wall);
  guess = wall - offsetAt(guess);
  return new Date(guess).toISOString();
}
