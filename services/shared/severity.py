"""Severity names senders use, folded into Klaxon's four.

| Klaxon   | also accepted (case-insensitive)                                   |
|----------|--------------------------------------------------------------------|
| critical | crit, fatal, emergency, emerg, alert, disaster, page, p1, sev1, sev0 |
| high     | error, err, major, p2, sev2                                        |
| medium   | warning, warn, minor, average, p3, sev3                            |
| low      | info, informational, notice, debug, ok, none, p4, p5, sev4, sev5   |
"""

SEVERITIES = ("critical", "high", "medium", "low")

SYNONYMS = {
    "critical": "crit fatal emergency emerg alert disaster page p1 sev1 sev0",
    "high": "error err major p2 sev2",
    "medium": "warning warn minor average p3 sev3",
    "low": "info informational notice debug ok none p4 p5 sev4 sev5",
}

_LOOKUP = {name: name for name in SEVERITIES}
_LOOKUP.update({word: name for name, words in SYNONYMS.items() for word in words.split()})


def normalise_severity(value):
    """Klaxon's severity for `value`, or None when it is not a known name."""
    if not isinstance(value, str):
        return None
    return _LOOKUP.get(value.strip().lower())
