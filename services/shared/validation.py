"""Validating a request body with a pydantic model, errors as Klaxon's [{"field", "reason"}]."""

from pydantic import ValidationError

from services.shared.errors import ValidationFailed


def validation_errors(error: ValidationError):
    """pydantic's errors as Klaxon's [{"field", "reason"}]."""
    found = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "body"
        reason = item["msg"].removeprefix("Value error, ")
        found.append({"field": field, "reason": reason})
    return found


def parse(model, payload):
    """`payload` validated as `model`, or `ValidationFailed` naming each bad field."""
    if not isinstance(payload, dict):
        raise ValidationFailed([{"field": "body", "reason": "must be a JSON object"}])
    try:
        parsed = model.model_validate(payload)
    except ValidationError as error:
        raise ValidationFailed(validation_errors(error)) from None
    return parsed


LARGEST_ID = 2**63 - 1  # what a BIGINT (and an SQLite INTEGER) holds
LARGEST_INT = 2**31 - 1  # what a PostgreSQL INTEGER column holds


def required_id(body, name):
    """`body[name]`, an integer a database row id can be; ValidationFailed otherwise."""
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= LARGEST_ID:
        raise ValidationFailed([{"field": name, "reason": "is required and must be an integer id"}])
    return value


def count_param(value, default=5, largest=100):
    """A `count` query parameter: ASCII digits from 1 to `largest` ("²" is a digit to str.isdigit)."""
    value = value or str(default)
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= largest:
        raise ValidationFailed([{"field": "count", "reason": f"must be an integer from 1 to {largest}"}])
    return int(value)
