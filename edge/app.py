"""The Falcon edge: REST API, health, metrics and the UI, built by `create_app`."""

from dataclasses import dataclass

import falcon

from edge import errors, events, oidc
from edge.auth import AccessControl, Authenticator, check_declared
from edge.ingestion import Ingestion, IntegrationAuth
from edge.queue import AlertPublisher, GroupedPublisher
from edge.replies import ReplyListener
from edge.requests import IdConverter
from edge.resources import (
    accounts,
    alerts,
    analytics,
    console,
    docs,
    incidents,
    ingest,
    integrations,
    notifications,
    oncall,
    quiet,
    system,
)
from edge.telemetry import RequestMetrics, prime_routes
from edge.tracing import RequestTracing
from services.shared import config
from services.shared.rate_limit import RateLimiter


@dataclass(frozen=True)
class EdgeSettings:
    amqp_uri: str = config.DEFAULT_AMQP_URI
    rpc_timeout: float = 10.0
    keyless_ingest: bool = False
    integration_cache_seconds: float = 5.0
    keyless_rate_limit: int = 6000
    public_url: str = "http://127.0.0.1:8080"
    session_max_hours: float = 168.0
    secret_key: str = ""
    sso: oidc.OidcSettings | None = None
    trace_url_template: str | None = None
    logs_url_template: str | None = None

    @property
    def secure_cookies(self):
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls):
        public_url = config.env("KLAXON_PUBLIC_URL", f"http://127.0.0.1:{config.edge_port()}")
        return cls(
            public_url=public_url,
            session_max_hours=float(config.env("KLAXON_SESSION_MAX_HOURS", 168)),
            secret_key=config.env("KLAXON_SECRET_KEY") or config.local_secret_key(),
            sso=oidc.OidcSettings.from_env(public_url),
            trace_url_template=config.env("KLAXON_TRACE_URL_TEMPLATE"),
            logs_url_template=config.env("KLAXON_LOGS_URL_TEMPLATE"),
            amqp_uri=config.amqp_uri(),
            rpc_timeout=float(config.env("KLAXON_RPC_TIMEOUT_SECONDS", 10)),
            keyless_ingest=config.env_flag("KLAXON_KEYLESS_INGEST"),
            integration_cache_seconds=float(config.env("KLAXON_INTEGRATION_CACHE_SECONDS", 5)),
            keyless_rate_limit=int(config.env("KLAXON_KEYLESS_RATE_LIMIT", 6000)),
        )


def create_app(settings, rpc, publisher=None, replies=None, authenticator=None, event_hub=None):
    """The WSGI app; `rpc` is anything with `call(service, method, *args)`, `publisher`
    anything with `publish(message)` (default: the durable queue on `settings.amqp_uri`),
    `replies` where synchronous alerts wait for their answer (default: a reply queue
    of this process on the same broker) and `authenticator` what tells whose credentials
    a request carries (default: the on-call service, over `rpc`), `event_hub` what feeds
    /api/v1/events (default: this process's consumer of the services' events)."""
    authenticator = authenticator or Authenticator(rpc)
    access_control = AccessControl(authenticator)
    app = falcon.App(middleware=[RequestTracing(), RequestMetrics(), access_control])
    app.req_options.strip_url_path_trailing_slash = True
    app.router_options.converters["id"] = IdConverter
    errors.install(app)
    auth = IntegrationAuth(
        rpc,
        settings.keyless_ingest,
        settings.integration_cache_seconds,
        keyless_rate_limit=settings.keyless_rate_limit,
    )
    publisher = publisher or GroupedPublisher(AlertPublisher(settings.amqp_uri))
    ingestion = Ingestion(auth, RateLimiter(), publisher)
    alert_intake = alerts.Alerts(
        rpc, ingestion, replies or ReplyListener(settings.amqp_uri), settings.rpc_timeout
    )
    cookie = accounts.SessionCookie(settings.secure_cookies, int(settings.session_max_hours * 3600))
    routes = {
        **_api_routes(app, rpc, ingestion, alert_intake),
        **_access_routes(app, rpc, cookie),
        **oidc.install(app, settings.sso, rpc, cookie, settings.secret_key or config.local_secret_key()),
        "/api/v1/events": events.Events(event_hub or events.EventHub(settings.amqp_uri), authenticator),
        "/api/v1/analytics": analytics.Analytics(rpc),
        "/api/v1/console/config": analytics.ConsoleConfig(
            settings.trace_url_template, settings.logs_url_template
        ),
        "/health": system.Health(settings.amqp_uri),
        "/metrics": system.Metrics(),
    }
    for path in ("/health", "/metrics", "/api/v1/events", "/api/v1/analytics", "/api/v1/console/config"):
        app.add_route(path, routes[path])
    console.install(app)  # the web console at / and its pages; it calls the API like anyone
    docs.install(app, routes)
    check_declared(routes)
    prime_routes(routes)
    return app


def _access_routes(app, rpc, cookie):
    routes = {
        "/api/v1/auth/login": accounts.Login(rpc, cookie),
        "/api/v1/auth/logout": accounts.Logout(rpc, cookie),
        "/api/v1/auth/password": accounts.Password(rpc),
        "/api/v1/me": accounts.Me(),
        "/api/v1/tokens": accounts.Tokens(rpc),
        "/api/v1/tokens/{token_id:id}": accounts.Token(rpc),
        "/api/v1/users": accounts.Users(rpc),
        "/api/v1/users/{email}": accounts.User(rpc),
        "/api/v1/users/{email}/password_reset": accounts.PasswordReset(rpc),
        "/api/v1/audit": accounts.Audit(rpc),
        "/api/v1/calendar_feeds": accounts.CalendarFeeds(rpc),
        "/api/v1/calendar_feeds/{feed_id:id}": accounts.CalendarFeed(rpc),
        "/api/v1/calendars/{secret}.ics": accounts.SecretCalendar(rpc),
    }
    for path, resource in routes.items():
        app.add_route(path, resource)
    return routes


def _api_routes(app, rpc, ingestion, alert_intake):
    pagerduty = ingest.PagerDutyEvents(ingestion)
    routes = {
        "/api/v1/alerts": alert_intake,
        "/api/v1/integrations/alertmanager": ingest.alertmanager(ingestion),
        "/api/v1/integrations/grafana": ingest.grafana(ingestion),
        # PagerDuty clients append /v2/enqueue to their base URL; both bases work.
        "/api/v1/integrations/pagerduty/v2/enqueue": pagerduty,
        "/v2/enqueue": pagerduty,
        "/api/v1/integrations": integrations.Integrations(rpc),
        "/api/v1/integrations/{integration_id:id}": integrations.Integration(rpc),
        "/api/v1/alerts/{alert_id}": alerts.Alert(rpc),
        "/api/v1/incidents": incidents.Incidents(rpc),
        "/api/v1/incidents/stats": incidents.IncidentStats(rpc),
        "/api/v1/incidents/{incident_id:id}": incidents.Incident(rpc),
        "/api/v1/incidents/{incident_id:id}/metrics": incidents.IncidentMetrics(rpc),
        "/api/v1/schedules": oncall.Schedules(rpc),
        "/api/v1/escalation_policies": oncall.EscalationPolicies(rpc),
        "/api/v1/overrides": oncall.Overrides(rpc),
        "/api/v1/overrides/{override_id:id}": oncall.OverrideById(rpc),
        "/api/v1/teams/{team}/oncall.ics": oncall.TeamCalendar(rpc),
        "/api/v1/people/{email}/oncall.ics": oncall.PersonCalendar(rpc),
        "/api/v1/people/{email}": oncall.PersonResource(rpc),
        "/api/v1/people/{email}/upcoming": oncall.PersonUpcoming(rpc),
        "/api/v1/oncall/current": oncall.OncallCurrent(rpc),
        "/api/v1/oncall/upcoming": oncall.OncallUpcoming(rpc),
        "/api/v1/escalate": oncall.Escalate(rpc),
        "/api/v1/notify": notifications.Notify(rpc),
        "/api/v1/notifications": notifications.Notifications(rpc),
        "/api/v1/notifications/{notification_id:id}/attempts": notifications.Attempts(rpc),
        "/api/v1/ack/{token}": notifications.AcknowledgeLink(rpc),
        "/api/v1/maintenance_windows": quiet.MaintenanceWindows(rpc),
        "/api/v1/maintenance_windows/{window_id:id}": quiet.MaintenanceWindow(rpc),
        "/api/v1/heartbeats": quiet.Heartbeats(rpc),
        "/api/v1/heartbeats/{heartbeat_id:id}": quiet.Heartbeat(rpc),
        "/api/v1/heartbeats/{heartbeat_id:id}/beat": quiet.Beat(rpc),
    }
    for path, resource in routes.items():
        app.add_route(path, resource)
    return routes
