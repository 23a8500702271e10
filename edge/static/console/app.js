// The Klaxon console: who is signed in, the layout, and the page for the location.
import { html, render, useState, useEffect, useRef } from "./lib.js";
import { get, post, setCsrf, whenUnauthorized } from "./api.js";
import { setZone } from "./format.js";
import { startLive, stopLive, status as liveStatus } from "./live.js";
import { navigate, useLocation, interceptLinks, match } from "./router.js";
import { Loading, isAdmin } from "./ui.js";
import { Login, ChangePassword } from "./pages/login.js";
import { Dashboard } from "./pages/dashboard.js";
import { Incidents } from "./pages/incidents.js";
import { IncidentPage } from "./pages/incident.js";
import { Oncall } from "./pages/oncall.js";
import { Team } from "./pages/team.js";
import { Metrics } from "./pages/metrics.js";
import { Integrations } from "./pages/integrations.js";
import { People } from "./pages/people.js";
import { Profile } from "./pages/profile.js";
import { Maintenance } from "./pages/maintenance.js";
import { Heartbeats } from "./pages/heartbeats.js";

const ROUTES = [
  ["/", Dashboard],
  ["/incidents", Incidents],
  ["/incidents/:id", IncidentPage],
  ["/oncall", Oncall],
  ["/teams/:team", Team],
  ["/metrics-overview", Metrics],
  ["/maintenance", Maintenance],
  ["/heartbeats", Heartbeats],
  ["/integrations", Integrations],
  ["/people", People],
  ["/profile", Profile],
];

const NAV = [
  ["/", "Dashboard"],
  ["/incidents", "Incidents"],
  ["/oncall", "On call"],
  ["/metrics-overview", "Metrics"],
  ["/maintenance", "Maintenance"],
  ["/heartbeats", "Heartbeats"],
  ["/integrations", "Integrations", "admin"],
  ["/people", "People", "admin"],
  ["/profile", "Profile"],
];

function toLogin() {
  if (location.pathname === "/login") return;
  const next = location.pathname + location.search;
  navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
}

function current(path, href) {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

function LiveIndicator() {
  const [mode, setMode] = useState(liveStatus.mode);
  useEffect(() => {
    liveStatus.listeners.add(setMode);
    // The stream may have opened between the first render and this effect: read it again.
    setMode(liveStatus.mode);
    return () => liveStatus.listeners.delete(setMode);
  }, []);
  const text = { live: "Live", polling: "Refreshing every 5 s", connecting: "Connecting…" }[mode];
  return html`<span class=${`live live-${mode}`} title="Updates without reloading">${text}</span>`;
}

function Header({ me, path, onSignOut }) {
  const items = NAV.filter(([, , role]) => !role || isAdmin(me));
  return html`<header class="topbar">
    <a class="skip" href="#main">Skip to content</a>
    <a class="brand" href="/">Klaxon</a>
    <nav aria-label="Main">
      <ul>
        ${items.map(([href, label]) => html`<li><a href=${href}
          aria-current=${current(path, href) ? "page" : undefined}>${label}</a></li>`)}
      </ul>
    </nav>
    <div class="who">
      <${LiveIndicator} />
      <span class="muted">${me.name || me.email} · ${me.role}</span>
      <button type="button" class="small" onClick=${onSignOut}>Sign out</button>
    </div>
  </header>`;
}

function Main({ children, path }) {
  const ref = useRef(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = ref.current && ref.current.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }, [path]);
  return html`<main id="main" class="page" ref=${ref}>${children}</main>`;
}

function NotFound() {
  return html`<h1>Not found</h1><p>No console page here. <a href="/">Back to the dashboard</a>.</p>`;
}

function SignedIn({ me, loc, onSignOut, onMe }) {
  if (me.must_change_password) {
    return html`<${Main} path=${loc.path}><${ChangePassword} me=${me} forced=${true} onDone=${onMe} />
      <p><button type="button" onClick=${onSignOut}>Sign out</button></p></${Main}>`;
  }
  const found = match(loc.path, ROUTES);
  const Page = found ? found.page : NotFound;
  const params = found ? found.params : {};
  return html`<${Header} me=${me} path=${loc.path} onSignOut=${onSignOut} />
    <${Main} path=${loc.path}><${Page} key=${loc.path} me=${me} params=${params}
      search=${loc.search} onMe=${onMe} /></${Main}>`;
}

function App() {
  const loc = useLocation();
  const [me, setMe] = useState(undefined);
  const loadMe = async () => {
    try {
      const who = await get("/api/v1/me", undefined, { quiet401: true });
      if (who.csrf_token) setCsrf(who.csrf_token);
      setZone(who.time_zone);
      setMe(who);
      if (!who.must_change_password) startLive();
    } catch (e) {
      if (e.status === 401) {
        setMe(null);
        stopLive();
        toLogin();
      } else setMe({ error: e });
    }
  };
  useEffect(() => {
    whenUnauthorized(() => {
      setMe(null);
      stopLive();
      toLogin();
    });
    loadMe();
  }, []);
  const signOut = async () => {
    try {
      await post("/api/v1/auth/logout");
    } catch {
      /* signed out either way */
    }
    setCsrf(null);
    stopLive();
    setMe(null);
    navigate("/login");
  };
  if (me === undefined) return html`<main id="main" class="page"><${Loading} /></main>`;
  if (me && me.error) {
    return html`<main id="main" class="page"><h1>Klaxon</h1>
      <p class="error" role="alert">The platform did not answer: ${me.error.message}</p>
      <button type="button" onClick=${loadMe}>Try again</button></main>`;
  }
  if (!me || loc.path === "/login") {
    if (me && loc.path === "/login") {
      const next = new URLSearchParams(loc.search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
      return null;
    }
    return html`<main id="main" class="page narrow"><${Login} search=${loc.search} onSignedIn=${loadMe} /></main>`;
  }
  return html`<${SignedIn} me=${me} loc=${loc} onSignOut=${signOut} onMe=${loadMe} />`;
}

interceptLinks(document);
const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
