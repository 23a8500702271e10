"""Reading request bodies and parameters, with the errors the contract promises."""

import json

import falcon
from falcon.routing import IntConverter

from edge.errors import Problem
from services.shared.problems import MAX_BODY_BYTES
from services.shared.validation import LARGEST_ID


class IdConverter(IntConverter):
    """`{name:id}`: a stored row's id. Beyond what a database column holds, no route matches (404)."""

    def __init__(self):
        super().__init__(min=0, max=LARGEST_ID)


def read_json(req, max_bytes=MAX_BODY_BYTES):
    """The request's JSON body: 415 for another type, 413 when too large, 400 when malformed."""
    media_type = (req.content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(
            falcon.HTTP_415,
            "Unsupported media type",
            f"send the body as application/json (got {media_type or 'no Content-Type'})",
        )
    if req.content_length is not None and req.content_length > max_bytes:
        raise _too_large(max_bytes)
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(falcon.HTTP_400, "Malformed JSON", f"the body is not valid JSON: {exc}") from None


def _too_large(max_bytes):
    return Problem(falcon.HTTP_413, "Payload too large", f"the body must be at most {max_bytes} bytes")


def filters(req, names):
    return {name: req.get_param(name) for name in names if req.get_param(name) not in (None, "")}
