"""Maintenance windows: when matching alerts are held back, and which alerts match. Pure.

A window is one interval (`starts_at` to `ends_at`) or a recurrence: an RFC 5545 RRULE
whose days are counted in a time zone, each occurrence running from `start_time` to
`end_time` in that zone's wall-clock time. Wall-clock times make "every Sunday
02:00-04:00 Europe/Paris" mean the same hours in winter and summer; on the night the
clocks change an occurrence is an hour shorter or longer, as the wall clock is.

Matchers are Alertmanager's: a name (`service`, `team`, or an alert label), an operator
(`=`, `!=`, `=~`, `!~`) and a value; regular expressions match the whole value, as in
Alertmanager. Every matcher must match.
"""

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.shared.validation import parse

OPERATORS = ("=~", "!~", "!=", "=")  # longest first, to read "a!=b" as != and not =
MATCHER_TEXT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
LONGEST_OCCURRENCE = dt.timedelta(days=7)
# How far ahead a recurrence is searched for its next occurrence.
HORIZON = dt.timedelta(days=400)


class Matcher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = Field(max_length=1000)

    @model_validator(mode="after")
    def compiles(self):
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as error:
                raise ValueError(f"{self.value!r} is not a regular expression: {error}") from None
        return self


class Recurrence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rrule: str = Field(min_length=1, max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone the rule counts in")
    start_time: dt.time = Field(description="Local time each occurrence starts, e.g. 02:00")
    end_time: dt.time = Field(description="Local time it ends; at or before start_time: the next day")

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("rrule")
    @classmethod
    def valid_rule(cls, value):
        value = value.removeprefix("RRULE:")
        if re.search(r"FREQ=(SECONDLY|MINUTELY|HOURLY)|BYSECOND|BYMINUTE|BYHOUR", value.upper()):
            # The rule picks days; start_time and end_time give the hours of each.
            raise ValueError("the rule picks days (FREQ=DAILY or coarser); start_time and end_time the hours")
        try:
            rrule.rrulestr(value, dtstart=dt.datetime(2026, 1, 1))
        except (ValueError, TypeError) as error:
            raise ValueError(f"not an RRULE: {error}") from None
        return value


class WindowRequest(BaseModel):
    """POST /api/v1/maintenance_windows."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=1000)
    matchers: list[Matcher | str] = Field(
        min_length=1, max_length=50, description="Objects {name, op, value} or strings like service=db"
    )
    starts_at: dt.datetime | None = Field(default=None, description="Default: now")
    ends_at: dt.datetime | None = Field(default=None, description="Required unless recurring")
    recurrence: Recurrence | None = None
    replay: bool = Field(default=True, description="At the end, alerts still firing open incidents")

    @field_validator("matchers")
    @classmethod
    def matchers_as_objects(cls, matchers):
        if matchers is None:  # a change that leaves them as they are
            return None
        return [m if isinstance(m, Matcher) else parse_matcher(m) for m in matchers]

    @field_validator("starts_at", "ends_at")
    @classmethod
    def aware(cls, value):
        if value is not None and value.utcoffset() is None:
            raise ValueError("needs a time zone offset, e.g. 2026-12-03T20:00:00Z")
        return value

    @model_validator(mode="after")
    def has_an_end(self):
        if self.recurrence is None and self.ends_at is None:
            raise ValueError("a window needs ends_at, or a recurrence")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.recurrence and occurrence_length(self.recurrence) > LONGEST_OCCURRENCE:
            raise ValueError("an occurrence lasts at most 7 days")
        return self


class WindowChange(BaseModel):
    """PATCH /api/v1/maintenance_windows/{id}: extend, end early, or edit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    matchers: list[Matcher | str] | None = Field(default=None, min_length=1, max_length=50)
    ends_at: dt.datetime | None = Field(default=None, description="Later extends; now or earlier ends it now")
    end_now: bool = Field(default=False, description="End the window now (its replay follows)")
    replay: bool | None = None

    _as_objects = field_validator("matchers")(WindowRequest.matchers_as_objects.__func__)
    _aware = field_validator("ends_at")(WindowRequest.aware.__func__)


def parse_matcher(text):
    """'service=db', 'team!=web', 'env=~"prod|stage"': a matcher as amtool writes it."""
    found = MATCHER_TEXT.match(text) if isinstance(text, str) else None
    if not found:
        raise ValueError(f"{text!r} is not a matcher like service=db, team!=web or env=~prod.*")
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return Matcher(name=name, op=op, value=value)


def parse_window(payload):
    return parse(WindowRequest, payload)


def parse_change(payload):
    return parse(WindowChange, payload)


def occurrence_length(recurrence):
    """The wall-clock length of one occurrence."""
    start = dt.datetime.combine(dt.date(2026, 1, 1), recurrence.start_time)
    end = dt.datetime.combine(dt.date(2026, 1, 1), recurrence.end_time)
    if end <= start:
        end += dt.timedelta(days=1)
    return end - start


# -- which alerts a window holds back -----------------------------------------------
def matches(matchers, alert, team=None):
    """Whether every matcher matches the alert (its service, its team, its labels)."""
    values = {**(alert.get("labels") or {}), "service": alert.get("service"), "team": team}
    return all(matcher_matches(m, values.get(m["name"])) for m in matchers)


def matcher_matches(matcher, value):
    value = "" if value is None else str(value)  # Alertmanager: a missing label is ""
    op = matcher["op"]
    if op in ("=", "!="):
        return (value == matcher["value"]) == (op == "=")
    return (re.fullmatch(matcher["value"], value) is not None) == (op == "=~")


def needs_team(matchers):
    return any(m["name"] == "team" for m in matchers)


# -- when a window holds them back ----------------------------------------------------
def occurrence_at(window, at):
    """(start, end) of the window's occurrence in force at `at` (UTC), or None."""
    if window["recurrence"] is None:
        return _single(window, at)
    for start, end in _occurrences(window, at - LONGEST_OCCURRENCE - dt.timedelta(days=1)):
        if start > at:
            return None
        if at < end:
            return start, end
    return None


def next_occurrence(window, after):
    """(start, end) of the first occurrence that has not ended by `after`, or None."""
    if window["recurrence"] is None:
        end = _series_end(window)
        return (window["starts_at"], end) if end > after else None
    for start, end in _occurrences(window, after - LONGEST_OCCURRENCE - dt.timedelta(days=1)):
        if start > after + HORIZON:
            return None
        if end > after:
            return start, end
    return None


def _single(window, at):
    end = _series_end(window)
    return (window["starts_at"], end) if window["starts_at"] <= at < end else None


def _series_end(window):
    ends = [t for t in (window["ends_at"], window.get("ended_at")) if t is not None]
    return min(ends) if ends else dt.datetime.max.replace(tzinfo=dt.UTC)


def _occurrences(window, since):
    """The recurrence's occurrences as UTC (start, end), from the day before `since` on,
    clipped to the window's own start and end."""
    recurrence = window["recurrence"]
    zone = ZoneInfo(recurrence["timezone"])
    start_time = dt.time.fromisoformat(recurrence["start_time"])
    end_time = dt.time.fromisoformat(recurrence["end_time"])
    first_day = window["starts_at"].astimezone(zone).date()
    first_start = dt.datetime.combine(first_day, start_time)
    rule = rrule.rrulestr(recurrence["rrule"], dtstart=first_start)
    series_end = _series_end(window)
    local_since = since.astimezone(zone).replace(tzinfo=None) - dt.timedelta(days=1)
    for local_start in rule.xafter(max(local_since, first_start), inc=True):
        start, end = _wall_clock_interval(local_start, start_time, end_time, zone)
        if start >= series_end:
            return
        if end > window["starts_at"]:
            yield max(start, window["starts_at"]), min(end, series_end)


def _wall_clock_interval(local_start, start_time, end_time, zone):
    """UTC (start, end) of an occurrence that starts on `local_start`'s day. A wall-clock
    time that the zone skips (02:30 when clocks go forward) is read with the offset in
    force before the change, so it lands just after it; one it repeats, as its first."""
    day = local_start.date()
    end_day = day if end_time > start_time else day + dt.timedelta(days=1)
    start = dt.datetime.combine(day, start_time, tzinfo=zone)
    end = dt.datetime.combine(end_day, end_time, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
