"""Domain errors that cross RPC intact, so the edge can map each to one HTTP status.

`deserialize_to_instance` makes a Nameko RPC caller re-raise the same class with the
same arguments, instead of a generic RemoteError.
"""

from nameko.exceptions import deserialize_to_instance


class KlaxonError(Exception):
    """Base of the errors a user can cause; `str()` is safe to show them."""


@deserialize_to_instance
class ValidationFailed(KlaxonError):
    """The request is well-formed JSON but a field is missing or invalid.

    `errors` is a list of {"field": ..., "reason": ...}.
    """

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors

    def __str__(self):
        return "; ".join(f"{e['field']}: {e['reason']}" for e in self.errors)


@deserialize_to_instance
class NotFound(KlaxonError):
    def __init__(self, kind, identifier):
        super().__init__(kind, identifier)
        self.kind = kind
        self.identifier = identifier

    def __str__(self):
        return f"{self.kind} {self.identifier} not found"


@deserialize_to_instance
class Conflict(KlaxonError):
    """The request is valid but the current state forbids it (e.g. an illegal transition)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


def invalid(field, reason):
    return ValidationFailed([{"field": field, "reason": reason}])


@deserialize_to_instance
class Unauthorized(KlaxonError):
    """No credentials, or credentials Klaxon does not know (401)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


@deserialize_to_instance
class Forbidden(KlaxonError):
    """Known credentials that may not do this, e.g. a revoked integration key (403)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


@deserialize_to_instance
class Throttled(KlaxonError):
    """Too many attempts; try again after `retry_after` seconds (429)."""

    def __init__(self, message, retry_after):
        super().__init__(message, retry_after)
        self.message = message
        self.retry_after = retry_after

    def __str__(self):
        return self.message
