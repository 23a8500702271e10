"""services.shared.rpc.TimedMethodProxy's wait for an answer, on eventlet's hub with a
listener's table of pending answers as nameko's ReplyListener keeps it: the broker's part
(the request) is left out; tests/services/test_rpc_answers.py has it."""

import eventlet
import pytest
from eventlet.event import Event
from nameko.exceptions import RpcTimeout
from nameko.rpc import RpcReply

from services.shared.rpc import TimedMethodProxy


class Listener:
    def __init__(self):
        self._reply_events = {}


class Call(TimedMethodProxy):
    """A call whose request is taken as sent: its answer is `answer`'s."""

    def __init__(self, answer, timeout):  # no container: nothing is published
        self.service_name, self.method_name = "incidents", "correlate_many"
        self.reply_listener, self.timeout = Listener(), timeout
        self.answer = answer

    def _call(self, *args, **kwargs):
        self.reply_listener._reply_events["correlation-id"] = self.answer
        return RpcReply(self.answer)


def test_an_answer_within_the_timeout_is_the_result():
    answer = Event()
    eventlet.spawn_after(0.01, answer.send, {"result": [1, 2], "error": None})
    assert Call(answer, timeout=5)() == [1, 2]


def test_no_answer_within_the_timeout_raises_and_forgets_the_call():
    call = Call(Event(), timeout=0.05)
    with pytest.raises(RpcTimeout, match="incidents.correlate_many did not answer in 0.05s"):
        call()
    assert call.reply_listener._reply_events == {}  # an answer that comes now is dropped


def test_a_call_given_up_by_an_outer_timeout_is_forgotten_too():
    call = Call(Event(), timeout=5)
    with pytest.raises(eventlet.Timeout), eventlet.Timeout(0.05):
        call()
    assert call.reply_listener._reply_events == {}


class AnsweredWithTheTimeout:
    """An answer sent in the same turn of the hub as the timeout: the waiter is woken by the
    timeout's None, though the answer is there."""

    def __init__(self, body):
        self.body = body
        self.waits = 0

    def wait(self, timeout=None):
        self.waits += 1
        return None if self.waits == 1 else self.body

    def ready(self):
        return True


def test_an_answer_that_came_with_the_timeout_is_taken():
    call = Call(AnsweredWithTheTimeout({"result": "late but here", "error": None}), timeout=0.05)
    assert call() == "late but here"
