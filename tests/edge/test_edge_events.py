"""The console's event stream: what a stream repeats, and what a reconnect gets."""

from edge.events import EventHub, Events, frame, summary


def hub():
    made = EventHub("amqp://unused")
    made._listen = lambda: None  # these tests feed the hub by hand, without a broker
    return made


def test_an_event_repeats_identifiers_and_kinds_never_free_text():
    event = summary("incident_opened", {"id": 7, "title": "<img src=x onerror=alert(1)>", "team": "db"})
    assert event == {"kind": "incident_opened", "id": 7, "team": "db", "incident_id": 7}


def test_subscribers_get_what_is_published_after_they_subscribe():
    events = hub()
    inbox, backlog = events.subscribe()
    events.publish("incident_acknowledged", {"incident_id": 3, "actor": "ada@example.com"})
    assert backlog == []
    got = inbox.get_nowait()
    assert got["kind"] == "incident_acknowledged" and got["incident_id"] == 3
    assert got["id"].startswith(events.process + "-")


def test_a_reconnect_gets_what_it_missed_from_this_process():
    events = hub()
    for n in range(5):
        events.publish("incident_updated", {"incident_id": n})
    _, backlog = events.subscribe(f"{events.process}-2")
    assert [e["incident_id"] for e in backlog] == [2, 3, 4]


def test_a_reconnect_from_another_process_or_too_far_back_is_told_to_refetch():
    events = EventHub("amqp://unused", history=3)
    events._listen = lambda: None
    for n in range(6):
        events.publish("incident_updated", {"incident_id": n})
    assert [e["kind"] for e in events.subscribe("someone-else-4")[1]] == ["reset"]
    assert [e["kind"] for e in events.subscribe(f"{events.process}-1")[1]] == ["reset"]
    assert [e["kind"] for e in events.subscribe("garbage")[1]] == ["reset"]


def test_the_stream_ends_when_the_credential_does():
    class Gone:
        def principal(self, req):
            raise PermissionError("signed out")

    events = hub()
    inbox, _ = events.subscribe()
    stream = Events(events, Gone(), keepalive=0.01, recheck=0)._stream(None, inbox, [])
    assert next(stream) == b"retry: 2000\n\n"
    assert list(stream) in ([], [b": keepalive\n\n"])
    assert inbox not in events.subscribers


def test_frames_are_server_sent_events():
    text = frame({"id": "p-1", "kind": "incident_opened", "incident_id": 1}).decode()
    assert text.startswith("id: p-1\nevent: incident_opened\ndata: {") and text.endswith("\n\n")
