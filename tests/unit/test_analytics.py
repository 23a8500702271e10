"""SRE figures and on-call load, computed without I/O."""

import datetime as dt
from zoneinfo import ZoneInfo

from services.incidents.analytics import ACK_BUCKETS, analytics, buckets
from services.notifications.load import at_night, page_load

UTC = dt.UTC


def at(text):
    return dt.datetime.fromisoformat(text)


def test_days_are_the_callers_local_days_with_empty_days_kept():
    rows = [
        (at("2026-12-01T23:30:00+00:00"), "api", "web", 60.0, 600.0),  # 2 Dec in Paris
        (at("2026-12-02T10:00:00+00:00"), "api", "web", 120.0, None),
        (at("2026-12-04T10:00:00+00:00"), "db", None, None, None),
    ]
    since, until = at("2026-12-01T00:00:00+01:00"), at("2026-12-05T00:00:00+01:00")
    figures = analytics(rows, since, until, "Europe/Paris")
    assert [d["day"] for d in figures["daily"]] == ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert [d["opened"] for d in figures["daily"]] == [0, 2, 0, 1]
    assert figures["daily"][1]["mtta_seconds"] == 90.0 and figures["daily"][1]["resolved"] == 1
    assert figures["daily"][2]["mtta_seconds"] is None
    assert figures["mtta_seconds"] == 90.0 and figures["mttr_seconds"] == 600.0
    assert figures["by_service"] == [{"service": "api", "opened": 2}, {"service": "db", "opened": 1}]
    assert {"team": "(no team)", "opened": 1} in figures["by_team"]


def test_distribution_buckets_count_each_value_once_and_end_open():
    counted = buckets([1, 60, 61, 10**7], ACK_BUCKETS)
    assert counted[0] == {"le": 60, "count": 2} and counted[1]["count"] == 1
    assert counted[-1] == {"le": None, "count": 1}
    assert sum(b["count"] for b in counted) == 4


def test_night_is_22_to_7_in_the_persons_own_zone_across_daylight_saving():
    paris = ZoneInfo("Europe/Paris")
    assert at_night(at("2026-03-28T21:30:00+00:00"), paris)  # 22:30 CET
    assert not at_night(at("2026-03-29T05:30:00+00:00"), paris)  # 07:30 CEST, the clocks went forward
    assert at_night(at("2026-03-29T04:30:00+00:00"), paris)  # 06:30 CEST
    assert not at_night(at("2026-07-01T05:00:00+00:00"), paris)


def test_pages_per_person_with_their_night_pages():
    pages = [
        ("ada@example.com", at("2026-12-01T23:00:00+00:00")),
        ("ada@example.com", at("2026-12-01T12:00:00+00:00")),
        ("bo@example.com", at("2026-12-01T23:00:00+00:00")),  # 18:00 in New York
    ]
    zones = {"ada@example.com": "Europe/Paris", "bo@example.com": "America/New_York"}
    assert page_load(pages, zones) == [
        {"recipient": "ada@example.com", "pages": 2, "night_pages": 1},
        {"recipient": "bo@example.com", "pages": 1, "night_pages": 0},
    ]
    assert page_load([("x@example.com", at("2026-12-01T23:00:00+00:00"))], {}) == [
        {"recipient": "x@example.com", "pages": 1, "night_pages": 1}
    ], "no known zone: UTC"
