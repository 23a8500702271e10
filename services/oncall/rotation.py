"""Who is on call at an instant: rotation arithmetic, pure and time-zone correct.

Daily and weekly rotations hand off at a wall-clock time in the schedule's own zone, so
a 09:00 handoff stays at 09:00 across daylight-saving changes (the shift that spans the
change is an hour shorter or longer). Hourly rotations hand off every N elapsed hours.
Shift k starts at the k-th handoff after the anchor (the start date at the handoff time);
member k mod len(members) holds it.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PERIOD_DAYS = {"daily": 1, "weekly": 7}
KINDS = ("hourly", "daily", "weekly")


@dataclass(frozen=True)
class Rotation:
    kind: str
    interval: int
    handoff: dt.time
    zone: ZoneInfo
    start: dt.date

    @property
    def anchor(self):
        return dt.datetime.combine(self.start, self.handoff, tzinfo=self.zone)


def shift_index(rotation, at):
    """Number of the shift in progress at the aware instant `at` (negative before the anchor)."""
    if rotation.kind == "hourly":
        elapsed = at - rotation.anchor
        return int(elapsed // dt.timedelta(hours=rotation.interval))
    local = at.astimezone(rotation.zone)
    days = (local.date() - rotation.start).days
    if local.time() < rotation.handoff:
        days -= 1
    return days // (PERIOD_DAYS[rotation.kind] * rotation.interval)


def shift_start(rotation, index):
    """The aware instant shift `index` begins."""
    if rotation.kind == "hourly":
        return rotation.anchor + dt.timedelta(hours=rotation.interval * index)
    day = rotation.start + dt.timedelta(days=PERIOD_DAYS[rotation.kind] * rotation.interval * index)
    return dt.datetime.combine(day, rotation.handoff, tzinfo=rotation.zone)


def on_call(rotation, members, at):
    """The member on call at `at`, or None for an empty layer."""
    if not members:
        return None
    return members[shift_index(rotation, at) % len(members)]


def upcoming_shifts(rotation, members, at, count):
    """The shift in progress at `at` and the next ones: (start, end, member) in UTC."""
    if not members:
        return []
    first = shift_index(rotation, at)
    shifts = []
    for index in range(first, first + count):
        start, end = shift_start(rotation, index), shift_start(rotation, index + 1)
        shifts.append(
            (
                start.astimezone(dt.UTC),
                end.astimezone(dt.UTC),
                members[index % len(members)],
            )
        )
    return shifts
