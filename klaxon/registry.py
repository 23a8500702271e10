"""The four services by name, for the CLI and the tests."""

import importlib

from services.shared import migrations

SERVICE_CLASSES = {
    "alerts": "services.alerts.service:AlertsService",
    "incidents": "services.incidents.service:IncidentsService",
    "oncall": "services.oncall.service:OncallService",
    "notifications": "services.notifications.service:NotificationsService",
}


def _load(path):
    module, attribute = path.split(":")
    return getattr(importlib.import_module(module), attribute)


def service_class(name):
    return _load(SERVICE_CLASSES[name])


def bind_and_migrate(name, url=None):
    """Bind a service's models to its database and apply its migrations; return the new versions."""
    package = f"services.{name}"
    proxy = importlib.import_module(f"{package}.models").db
    versions = importlib.import_module(f"{package}.migrations").MIGRATIONS
    return migrations.bind_and_migrate(proxy, versions, name, url)
