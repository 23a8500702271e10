"""The four services' classes, and the entrypoints each declares, for tests that walk them."""

from services.alerts.service import AlertsService
from services.incidents.service import IncidentsService
from services.notifications.service import NotificationsService
from services.oncall.service import OncallService

SERVICES = (AlertsService, IncidentsService, OncallService, NotificationsService)


def entrypoints_of(service_cls):
    """(method, entrypoint) for every entrypoint of `service_cls`."""
    for name in dir(service_cls):
        method = getattr(service_cls, name)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            yield method, entrypoint
