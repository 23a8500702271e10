// The client-side router: pages by location.pathname, filters in location.search.
import { useState, useEffect } from "./lib.js";

const listeners = new Set();

export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", url);
  listeners.forEach((fn) => fn());
}

export function useLocation() {
  const [loc, setLoc] = useState({ path: location.pathname, search: location.search });
  useEffect(() => {
    const update = () => setLoc({ path: location.pathname, search: location.search });
    listeners.add(update);
    window.addEventListener("popstate", update);
    update(); // a navigation between the first render and this effect is not missed
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return loc;
}

// Same-origin links to console pages navigate without a reload.
export function interceptLinks(root = document) {
  root.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = event.target.closest && event.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
    if (/^\/(api|docs|console)(\/|$)/.test(a.pathname)) return;
    event.preventDefault();
    navigate(a.pathname + a.search);
  });
}

export function match(path, routes) {
  for (const [pattern, page] of routes) {
    const names = [];
    const re = new RegExp(
      "^" + pattern.replace(/:(\w+)/g, (_, name) => (names.push(name), "([^/]+)")) + "/?$",
    );
    const m = path.match(re);
    if (m) {
      const params = {};
      names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { page, params };
    }
  }
  return null;
}
