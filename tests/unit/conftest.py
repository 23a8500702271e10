"""Helpers shared by the unit tests: the example payloads in tests/payloads."""

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


@pytest.fixture
def example_payload():
    """example_payload("schedule.json") is the parsed example, or the test is skipped."""

    def load(name):
        path = PAYLOADS / name
        if not path.is_file():
            pytest.skip(f"example payload {path} is not available")
        return json.loads(path.read_text())

    return load
