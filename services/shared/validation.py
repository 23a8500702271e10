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
