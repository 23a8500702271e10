"""The escalation engine: a flat list of updaters, each run on every tick.

An updater takes the due work in one transaction that holds its rows, pages, and records
the step before committing. A replica skips rows another one holds; a crash before the
commit leaves the step due, and its pages are keyed, so a retry never pages twice.
"""

from services.oncall import paging

ACTOR = "klaxon-escalation"


def fire_due_steps(store, dispatch, now, channel=None, limit=100):
    """Take every escalation step whose delay has run out; return how many fired."""
    with store.due_escalations(now, limit) as due:
        for escalation in due:
            store.advance(escalation, now)
            paging.fire(store, dispatch, escalation, ACTOR, now, channel)
    return len(due)


UPDATERS = [fire_due_steps]


def tick(store, dispatch, now):
    return sum(updater(store, dispatch, now) for updater in UPDATERS)
