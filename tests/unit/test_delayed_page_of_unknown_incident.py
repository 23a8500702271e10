"""A delayed page whose incident does not exist is not sent, and does not break the retry loop."""

from types import SimpleNamespace

from nameko.testing.services import worker_factory

from services.notifications.service import NotificationsService
from services.shared.errors import NotFound


class Incidents:
    def __init__(self, answers):
        self.answers = answers

    def incident_summary(self, incident_id):
        if incident_id not in self.answers:
            raise NotFound("incident", incident_id)
        return self.answers[incident_id]


def test_a_page_goes_only_while_its_incident_is_open_and_exists():
    service = worker_factory(
        NotificationsService, incidents=Incidents({1: {"status": "open"}, 2: {"status": "acknowledged"}})
    )
    assert service._still_open(SimpleNamespace(incident_id=1)) is True
    assert service._still_open(SimpleNamespace(incident_id=2)) is False
    assert service._still_open(SimpleNamespace(incident_id=0)) is False, "no such incident: nobody to wake"
    assert service._still_open(SimpleNamespace(incident_id=None)) is True, "an ad-hoc message has no incident"
