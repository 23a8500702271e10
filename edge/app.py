"""The Falcon edge: REST API, health, metrics and the UI, built by `create_app`."""

from dataclasses import dataclass

import falcon

from edge import errors
from edge.resources import alerts, incidents, notifications, oncall, system
from edge.telemetry import RequestMetrics
from services.shared import config


@dataclass(frozen=True)
class EdgeSettings:
    amqp_uri: str = config.DEFAULT_AMQP_URI
    rpc_timeout: float = 10.0

    @classmethod
    def from_env(cls):
        return cls(
            amqp_uri=config.amqp_uri(),
            rpc_timeout=float(config.env("KLAXON_RPC_TIMEOUT_SECONDS", 10)),
        )


def create_app(settings, rpc):
    """The WSGI app; `rpc` is anything with `call(service, method, *args)`."""
    app = falcon.App(middleware=[RequestMetrics()])
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app)
    _api_routes(app, rpc)
    app.add_route("/health", system.Health(settings.amqp_uri))
    app.add_route("/metrics", system.Metrics())
    app.add_route("/", system.Index())
    return app


def _api_routes(app, rpc):
    routes = {
        "/api/v1/alerts": alerts.Alerts(rpc),
        "/api/v1/alerts/{alert_id}": alerts.Alert(rpc),
        "/api/v1/incidents": incidents.Incidents(rpc),
        "/api/v1/incidents/stats": incidents.IncidentStats(rpc),
        "/api/v1/incidents/{incident_id:int}": incidents.Incident(rpc),
        "/api/v1/incidents/{incident_id:int}/metrics": incidents.IncidentMetrics(rpc),
        "/api/v1/schedules": oncall.Schedules(rpc),
        "/api/v1/oncall/current": oncall.OncallCurrent(rpc),
        "/api/v1/oncall/upcoming": oncall.OncallUpcoming(rpc),
        "/api/v1/escalate": oncall.Escalate(rpc),
        "/api/v1/notify": notifications.Notify(rpc),
        "/api/v1/notifications": notifications.Notifications(rpc),
    }
    for path, resource in routes.items():
        app.add_route(path, resource)
