// The authenticated API: JSON in and out, the session cookie, and its CSRF token for changes.
const CSRF_KEY = "klaxon.csrf";
let csrf = sessionStorage.getItem(CSRF_KEY);

export function setCsrf(token) {
  csrf = token || null;
  if (csrf) sessionStorage.setItem(CSRF_KEY, csrf);
  else sessionStorage.removeItem(CSRF_KEY);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.errors = (problem && problem.errors) || [];
  }
  // {field path: reason}, for showing validation errors beside their fields
  get fields() {
    const out = {};
    for (const e of this.errors) out[e.field] = e.reason;
    return out;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const resp = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (resp.status === 401 && !quiet401) onUnauthorized();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path, params, opts) => api("GET", path + query(params), undefined, opts);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

// GET that answers `fallback` for a 404 (an endpoint this platform does not have yet).
export async function optional(path, params, fallback = null) {
  try {
    return await get(path, params);
  } catch (e) {
    if (e.status === 404 || e.status === 405) return fallback;
    throw e;
  }
}

export const enc = encodeURIComponent;
