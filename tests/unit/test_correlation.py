"""services/incidents/correlation.py: the correlation key and window."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from services.incidents.correlation import correlation_key, is_group_key, window_start
from services.shared.severity import SEVERITIES

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 8, 15, 30, tzinfo=UTC)


def test_key_is_service_and_severity():
    assert correlation_key(dict(service="checkout", severity="high")) == "checkout|high"


def test_same_service_other_severity_is_another_key():
    assert correlation_key(dict(service="checkout", severity="high")) != correlation_key(
        dict(service="checkout", severity="critical")
    )


def test_same_severity_other_service_is_another_key():
    assert correlation_key(dict(service="checkout", severity="high")) != correlation_key(
        dict(service="payments", severity="high")
    )


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=30), st.sampled_from(SEVERITIES), st.text(max_size=30), st.sampled_from(SEVERITIES))
def test_key_is_injective_for_normalised_severities(service_a, sev_a, service_b, sev_b):
    same_key = correlation_key(dict(service=service_a, severity=sev_a)) == correlation_key(
        dict(service=service_b, severity=sev_b)
    )
    assert same_key == ((service_a, sev_a) == (service_b, sev_b))


def test_service_containing_the_separator():
    assert correlation_key(dict(service="a|high", severity="low")) != correlation_key(
        dict(service="a", severity="low")
    )
    assert correlation_key(dict(service="a|high", severity="low")) != correlation_key(
        dict(service="a|low", severity="high")
    )


def test_key_fits_its_column():
    # incidents.correlation_key is a CharField(max_length=420); service is at most 200 chars
    assert len(correlation_key(dict(service="s" * 200, severity=max(SEVERITIES, key=len)))) <= 420


def test_window_start_default_five_minutes():
    assert window_start(NOW, 300) == dt.datetime(2026, 3, 8, 15, 25, tzinfo=UTC)


def test_zero_window_is_now():
    assert window_start(NOW, 0) == NOW


@settings(max_examples=120, deadline=None, database=None)
@given(
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 10**7),
)
def test_window_start_is_window_seconds_before_now(now, seconds):
    start = window_start(now, seconds)
    assert now - start == dt.timedelta(seconds=seconds)
    assert start.tzinfo is now.tzinfo
    assert start <= now


def test_a_group_key_wins_over_service_and_severity():
    alert = {"service": "checkout", "severity": "high", "group_key": '7:{}:{alertname="X"}'}
    assert correlation_key(alert) == 'group|7:{}:{alertname="X"}'
    assert is_group_key(correlation_key(alert))
    assert not is_group_key(correlation_key({"service": "checkout", "severity": "high"}))
