"""The edge's on-call routes reach the right RPC with the right arguments and answer
in the right shape; the on-call service's own behaviour is tested on real stores."""

import pytest

from services.oncall import contracts as c
from services.shared.errors import NotFound
from tests.edge.test_errors_and_validation import RecordingRpc, client_for, post_json

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize(
    ("path", "method", "args"),
    [
        ("/api/v1/teams/payments/oncall.ics", c.CALENDAR, ("payments", None)),
        ("/api/v1/people/hal@example.com/oncall.ics", c.CALENDAR, (None, "hal@example.com")),
    ],
)
def test_calendars_are_served_as_text_calendar(path, method, args):
    rpc = RecordingRpc(answer=CALENDAR)
    answer = client_for(rpc).simulate_get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.text == CALENDAR
    assert rpc.calls == [(c.SERVICE, method, args)]


def test_policies_and_overrides_are_created_with_201():
    rpc = RecordingRpc(answer={"team": "payments"})
    client = client_for(rpc)
    assert post_json(client, "/api/v1/escalation_policies", {"team": "payments"}).status_code == 201
    assert post_json(client, "/api/v1/overrides", {"team": "payments"}).status_code == 201
    assert [call[1] for call in rpc.calls] == [c.SAVE_POLICY, c.ADD_OVERRIDE]


def test_overrides_are_listed_by_team_and_deleted_with_204():
    rpc = RecordingRpc(answer=[])
    client = client_for(rpc)
    assert client.simulate_get("/api/v1/overrides", params={"team": "payments"}).json == {"items": []}
    assert client.simulate_get("/api/v1/overrides").status_code == 422, "the team is required"
    assert client.simulate_delete("/api/v1/overrides/7").status_code == 204
    assert rpc.calls[-1] == (c.SERVICE, c.DELETE_OVERRIDE, (7,))


def test_a_person_and_their_upcoming_shifts():
    rpc = RecordingRpc(answer={"email": "hal@example.com"})
    client = client_for(rpc)
    assert client.simulate_get("/api/v1/people/hal@example.com").json == {"email": "hal@example.com"}
    assert (
        client.simulate_get("/api/v1/people/hal@example.com/upcoming", params={"count": "3"}).status_code
        == 200
    )
    assert rpc.calls[-1] == (c.SERVICE, c.PERSON_UPCOMING, ("hal@example.com", None, 3))
    assert (
        client.simulate_get("/api/v1/people/hal@example.com/upcoming", params={"count": "0"}).status_code
        == 422
    )


def test_an_unknown_person_is_404():
    rpc = RecordingRpc(error=NotFound("person", "nobody@example.com"))
    assert client_for(rpc).simulate_get("/api/v1/people/nobody@example.com").status_code == 404
