"""The Falcon edge: REST API, health, metrics and the UI, built by `create_app`."""

from dataclasses import dataclass

import falcon

from edge import errors
from edge.ingestion import Ingestion, IntegrationAuth, RateLimiter
from edge.queue import AlertPublisher, GroupedPublisher
from edge.replies import ReplyListener
from edge.resources import alerts, incidents, ingest, integrations, notifications, oncall, system
from edge.telemetry import RequestMetrics
from services.shared import config


@dataclass(frozen=True)
class EdgeSettings:
    amqp_uri: str = config.DEFAULT_AMQP_URI
    rpc_timeout: float = 10.0
    keyless_ingest: bool = False
    integration_cache_seconds: float = 5.0
    keyless_rate_limit: int = 6000

    @classmethod
    def from_env(cls):
        return cls(
            amqp_uri=config.amqp_uri(),
            rpc_timeout=float(config.env("KLAXON_RPC_TIMEOUT_SECONDS", 10)),
            keyless_ingest=config.env_flag("KLAXON_KEYLESS_INGEST"),
            integration_cache_seconds=float(config.env("KLAXON_INTEGRATION_CACHE_SECONDS", 5)),
            keyless_rate_limit=int(config.env("KLAXON_KEYLESS_RATE_LIMIT", 6000)),
        )


def create_app(settings, rpc, publisher=None, replies=None):
    """The WSGI app; `rpc` is anything with `call(service, method, *args)`, `publisher`
    anything with `publish(message)` (default: the durable queue on `settings.amqp_uri`)
    and `replies` where synchronous alerts wait for their answer (default: a reply queue
    of this process on the same broker)."""
    app = falcon.App(middleware=[RequestMetrics()])
    app.req_options.strip_url_path_trailing_slash = True
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
    _api_routes(app, rpc, ingestion, alert_intake)
    app.add_route("/health", system.Health(settings.amqp_uri))
    app.add_route("/metrics", system.Metrics())
    app.add_route("/", system.Index())
    return app


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
        "/api/v1/integrations/{integration_id:int}": integrations.Integration(rpc),
        "/api/v1/alerts/{alert_id}": alerts.Alert(rpc),
        "/api/v1/incidents": incidents.Incidents(rpc),
        "/api/v1/incidents/stats": incidents.IncidentStats(rpc),
        "/api/v1/incidents/{incident_id:int}": incidents.Incident(rpc),
        "/api/v1/incidents/{incident_id:int}/metrics": incidents.IncidentMetrics(rpc),
        "/api/v1/schedules": oncall.Schedules(rpc),
        "/api/v1/escalation_policies": oncall.EscalationPolicies(rpc),
        "/api/v1/overrides": oncall.Overrides(rpc),
        "/api/v1/overrides/{override_id:int}": oncall.OverrideById(rpc),
        "/api/v1/teams/{team}/oncall.ics": oncall.TeamCalendar(rpc),
        "/api/v1/people/{email}/oncall.ics": oncall.PersonCalendar(rpc),
        "/api/v1/people/{email}": oncall.PersonResource(rpc),
        "/api/v1/people/{email}/upcoming": oncall.PersonUpcoming(rpc),
        "/api/v1/oncall/current": oncall.OncallCurrent(rpc),
        "/api/v1/oncall/upcoming": oncall.OncallUpcoming(rpc),
        "/api/v1/escalate": oncall.Escalate(rpc),
        "/api/v1/notify": notifications.Notify(rpc),
        "/api/v1/notifications": notifications.Notifications(rpc),
        "/api/v1/notifications/{notification_id:int}/attempts": notifications.Attempts(rpc),
        "/api/v1/ack/{token}": notifications.AcknowledgeLink(rpc),
    }
    for path, resource in routes.items():
        app.add_route(path, resource)
