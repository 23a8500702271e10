"""The edge's HTTP/1 responses: the head and the body's first part leave in one send.

A real request is parsed by gunicorn from a socket pair; what the response sends is
recorded on its way to the other end, which reads it back as a client would.
"""

import importlib.util
import socket
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from edge.response import OneSendResponse
from services.shared import heap

BODY = b'{"incident_id": 7, "status": "correlated"}'


class RecordingSocket:
    """The server's end of the pair, keeping each send as the kernel got it."""

    def __init__(self, sock):
        self.sock = sock
        self.sends = []

    def sendall(self, data):
        self.sends.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


@pytest.fixture
def exchange():
    client, server = socket.socketpair()
    client.settimeout(5)
    yield client, server
    client.close()
    server.close()


def respond(exchange, request, status, headers, parts):
    client, server = exchange
    client.sendall(request)
    cfg = Config()
    req = next(RequestParser(cfg, server, ("127.0.0.1", 5000)))
    recorder = RecordingSocket(server)
    resp, _ = wsgi.create(req, recorder, ("127.0.0.1", 5000), "127.0.0.1:8080", cfg, OneSendResponse)
    resp.start_response(status, headers)
    for part in parts:
        resp.write(part)
    resp.close()
    return recorder.sends, read_all(client, sum(len(s) for s in recorder.sends))


def read_all(client, size):
    received = b""
    while len(received) < size:
        received += client.recv(65536)
    return received


POST = b"POST /api/v1/alerts HTTP/1.1\r\nHost: klaxon\r\nContent-Length: 2\r\n\r\n{}"
JSON = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def test_a_json_answer_is_one_send_head_and_body(exchange):
    sends, received = respond(exchange, POST, "201 Created", JSON, [BODY])
    assert len(sends) == 1
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201 Created\r\n") and b"Content-Length: 42" in head
    assert body == BODY


def test_a_body_in_parts_sends_the_head_with_the_first(exchange):
    length = [("Content-Type", "text/plain"), ("Content-Length", "6")]
    sends, received = respond(exchange, POST, "200 OK", length, [b"abc", b"def"])
    assert len(sends) == 2 and sends[0].endswith(b"\r\n\r\nabc") and sends[1] == b"def"
    assert received.endswith(b"\r\n\r\nabcdef")


def test_a_response_without_a_body_still_sends_its_head(exchange):
    head_request = b"HEAD /health HTTP/1.1\r\nHost: klaxon\r\n\r\n"
    sends, received = respond(exchange, head_request, "200 OK", JSON, [BODY])
    assert len(sends) == 1 and received.endswith(b"\r\n\r\n") and BODY not in received
    empty = [("Content-Length", "0")]
    sends, received = respond(exchange, POST, "204 No Content", empty, [b""])
    assert received.startswith(b"HTTP/1.1 204 No Content\r\n") and received.endswith(b"\r\n\r\n")


def test_a_stream_of_unknown_length_is_chunked_as_before(exchange):
    events = [("Content-Type", "text/event-stream")]
    _, received = respond(
        exchange, b"GET /api/v1/events HTTP/1.1\r\nHost: k\r\n\r\n", "200 OK", events, [b"retry: 2000\n\n"]
    )
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"D\r\nretry: 2000\n\n\r\n0\r\n\r\n"


def test_the_edges_gunicorn_workers_answer_with_it_and_settle_their_heap(monkeypatch):
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)  # undone after the test
    settled = []
    monkeypatch.setattr(heap, "settle", lambda: settled.append(True))  # the test process's own stays
    path = Path(__file__).resolve().parents[2] / "edge" / "gunicorn_conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", path)
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    settings.post_worker_init(worker=None)
    assert wsgi.Response is OneSendResponse
    assert settled == [True]
