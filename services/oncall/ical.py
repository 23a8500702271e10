"""On-call shifts as an iCalendar feed (RFC 5545) a calendar app can subscribe to.

The feed holds the same shifts as GET /api/v1/oncall/upcoming: one event per shift, in
UTC, with a stable UID so a calendar updates an event instead of duplicating it.
"""

import datetime as dt

PRODUCT = "-//Klaxon//On-call//EN"


def calendar(name, shifts, now):
    """`shifts`: dicts with team, layer, name, email, start and end (ISO 8601 instants)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for shift in shifts:
        lines += event(shift, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def event(shift, now):
    start = dt.datetime.fromisoformat(shift["start"])
    return [
        "BEGIN:VEVENT",
        f"UID:{shift['team']}-{shift['layer']}-{stamp(start)}@klaxon",
        f"DTSTAMP:{stamp(now)}",
        f"DTSTART:{stamp(start)}",
        f"DTEND:{stamp(dt.datetime.fromisoformat(shift['end']))}",
        f"SUMMARY:{escape(summary(shift))}",
        f"ATTENDEE;CN={quote(shift['name'])}:mailto:{shift['email']}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def summary(shift):
    return f"On call ({shift['layer']}): {shift['team']}: {shift['name']}"


def stamp(instant):
    return instant.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text):
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def quote(text):
    return '"' + text.replace('"', "'") + '"'


def fold(line, limit=75):
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= limit:
        return line
    parts, start = [], 0
    while start < len(data):
        end = min(start + (limit if not parts else limit - 1), len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)
