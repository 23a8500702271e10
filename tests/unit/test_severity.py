"""services/shared/severity.py: every documented name, any case and padding, nothing else."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.shared import severity as module
from services.shared.severity import SEVERITIES, normalise_severity

# The table of the module docstring (and of the README), written out independently.
DOCUMENTED = {
    "critical": [
        "critical",
        "crit",
        "fatal",
        "emergency",
        "emerg",
        "alert",
        "disaster",
        "page",
        "p1",
        "sev1",
        "sev0",
    ],
    "high": ["high", "error", "err", "major", "p2", "sev2"],
    "medium": ["medium", "warning", "warn", "minor", "average", "p3", "sev3"],
    "low": ["low", "info", "informational", "notice", "debug", "ok", "none", "p4", "p5", "sev4", "sev5"],
}
NAMES = [(word, klaxon) for klaxon, words in DOCUMENTED.items() for word in words]
KNOWN = {word for word, _ in NAMES}
WHITESPACE = st.text(alphabet=" \t\r\n", max_size=4)


def test_four_severities_in_order():
    assert SEVERITIES == ("critical", "high", "medium", "low")


@pytest.mark.parametrize(("word", "expected"), NAMES)
def test_documented_name(word, expected):
    assert normalise_severity(word) == expected


@pytest.mark.parametrize(("word", "expected"), NAMES)
def test_documented_name_upper_and_title_case_and_padded(word, expected):
    assert normalise_severity(word.upper()) == expected
    assert normalise_severity(word.title()) == expected
    assert normalise_severity(f"  {word.upper()}\t\n") == expected


def test_docstring_table_lists_every_synonym():
    for klaxon, words in DOCUMENTED.items():
        row = next(line for line in module.__doc__.splitlines() if line.startswith(f"| {klaxon}"))
        assert row.split("|")[2].replace(",", " ").split() == words[1:]


@settings(max_examples=120, deadline=None, database=None)
@given(st.sampled_from(NAMES), st.data(), WHITESPACE, WHITESPACE)
def test_any_case_and_surrounding_whitespace(name, data, before, after):
    word, expected = name
    flips = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    mixed = "".join(ch.upper() if flip else ch for ch, flip in zip(word, flips, strict=True))
    assert normalise_severity(before + mixed + after) == expected


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=20))
def test_anything_else_is_unknown(text):
    result = normalise_severity(text)
    if text.strip().lower() in KNOWN:
        assert result in SEVERITIES
    else:
        assert result is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "urgent",
        "p0",
        "p6",
        "sev6",
        "warnings",
        "hi",
        "critical!",
        "crit ical",
        "high-ish",
        "p 1",
        "severe",
    ],
)
def test_unknown_names(value):
    assert normalise_severity(value) is None


@pytest.mark.parametrize(
    "value", [None, 1, 2.0, True, b"high", ["high"], {"severity": "high"}, ("low",), object()]
)
def test_non_strings_are_unknown(value):
    assert normalise_severity(value) is None
