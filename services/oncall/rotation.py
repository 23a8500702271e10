"""Who is on call at an instant: rotation arithmetic, pure and time-zone correct.

Daily and weekly rotations hand off at a wall-clock time in the schedule's own zone, so
a 09:00 handoff stays at 09:00 across daylight-saving changes (the shift that spans the
change is an hour shorter or longer). Hourly rotations hand off every N elapsed hours.
Shift k starts at the k-th handoff after the anchor (the start date at the handoff time).

Who holds shift k: a layer keeps a (shift, position) pair, the "turn": member `position`
holds shift `shift`, and the list goes round from there. With the turn (0, 0), member
k mod len(members) holds shift k. When members join or leave, the turn is moved so the
person on call keeps their shift and the others follow in list order, instead of every
future shift being dealt anew (see `keep_turn`).
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
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
    at = at.astimezone(UTC)
    if rotation.kind == "hourly":
        return int((at - rotation.anchor.astimezone(UTC)) // dt.timedelta(hours=rotation.interval))
    # A first guess from the local calendar, then settle on the shift whose bounds hold `at`:
    # near a daylight-saving change the wall clock alone can point one shift off.
    days = (at.astimezone(rotation.zone).date() - rotation.start).days
    index = days // (PERIOD_DAYS[rotation.kind] * rotation.interval)
    while shift_start(rotation, index) > at:
        index -= 1
    while shift_start(rotation, index + 1) <= at:
        index += 1
    return index


def shift_start(rotation, index):
    """The instant (UTC) shift `index` begins.

    A handoff time that does not exist that day (clocks spring forward) happens as many
    minutes after the jump; one that exists twice (clocks fall back) happens the first time.
    """
    if rotation.kind == "hourly":
        return rotation.anchor.astimezone(UTC) + dt.timedelta(hours=rotation.interval * index)
    day = rotation.start + dt.timedelta(days=PERIOD_DAYS[rotation.kind] * rotation.interval * index)
    return dt.datetime.combine(day, rotation.handoff, tzinfo=rotation.zone).astimezone(UTC)


def holder(members, index, turn=(0, 0)):
    """The member holding shift `index` when member `turn[1]` holds shift `turn[0]`."""
    shift, position = turn
    return members[(position + index - shift) % len(members)]


def on_call(rotation, members, at, turn=(0, 0)):
    """The member on call at `at`, or None for an empty layer."""
    if not members:
        return None
    return holder(members, shift_index(rotation, at), turn)


def upcoming_shifts(rotation, members, at, count, turn=(0, 0)):
    """The shift in progress at `at` and the next ones: (start, end, member) in UTC."""
    if not members:
        return []
    first = shift_index(rotation, at)
    shifts = []
    for index in range(first, first + count):
        start, end = shift_start(rotation, index), shift_start(rotation, index + 1)
        shifts.append((start, end, holder(members, index, turn)))
    return shifts


def keep_turn(old_members, holder_position, new_members, current_index):
    """The turn for `new_members` that disturbs the rotation least at shift `current_index`.

    `holder_position` is where the person on call now stands in `old_members`. They keep
    the shift, and whoever followed them still follows; a newcomer takes their place in
    list order. If the person on call leaves, the one who was next takes over at once.
    """
    if not new_members or not old_members:
        return (current_index, 0)
    keys = [member_key(m) for m in new_members]
    for step in range(len(old_members)):
        candidate = member_key(old_members[(holder_position + step) % len(old_members)])
        if candidate in keys:
            return (current_index, keys.index(candidate))
    return (current_index, 0)


def member_key(member):
    return getattr(member, "email", member)


def covering(overrides, at):
    """The override in force at `at`, or None: of those whose [start, end) window holds
    `at`, the one created last wins, so a newer override can carve into an older one."""
    live = [override for override in overrides if override.starts_at <= at < override.ends_at]
    return max(live, key=lambda override: override.id) if live else None
