"""Keyset pagination: stable and index-friendly however long the history grows.

Lists are newest first; the cursor is the (created instant, id) of the last row seen.
"""

import base64
import datetime as dt

from services.shared.errors import invalid
from services.shared.validation import LARGEST_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def page_limit(value):
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise invalid("limit", "must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(instant, identifier):
    raw = f"{instant.isoformat()}|{identifier}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor, id_type=str):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        instant, identifier = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        return dt.datetime.fromisoformat(instant), id_type(identifier)
    except Exception:  # any garbage is the caller's mistake, reported as such
        raise invalid("cursor", "is not a cursor this API returned") from None


def keyset_page(query, created_field, id_field, cursor, limit, id_type=str, oldest_first=False):
    """Rows of `query` after `cursor`, newest first (or oldest first), and the next page's cursor."""
    if cursor:
        instant, identifier = decode_cursor(cursor, id_type)
        if oldest_first:
            after = (created_field > instant) | ((created_field == instant) & (id_field > identifier))
        else:
            after = (created_field < instant) | ((created_field == instant) & (id_field < identifier))
        query = query.where(after)
    order = (created_field.asc(), id_field.asc()) if oldest_first else (created_field.desc(), id_field.desc())
    rows = list(query.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, created_field.name), getattr(last, id_field.name))
    return rows, next_cursor


SORTS = {"-created_at": False, "created_at": True}


def oldest_first(sort):
    """`sort=created_at` (oldest first) or `-created_at` (newest first, the default)."""
    if sort in (None, ""):
        return False
    if sort not in SORTS:
        raise invalid("sort", f"must be one of {', '.join(SORTS)}")
    return SORTS[sort]


def equality_filters(query, model, filters, names, integer_names=()):
    """`query` narrowed by each of `names` present in `filters`; integer ones are checked."""
    for name in names:
        value = filters.get(name)
        if value in (None, ""):
            continue
        if name in integer_names:
            value = integer_filter(name, value)
        query = query.where(getattr(model, name) == value)
    return query


def integer_filter(name, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(name, "must be an integer") from None
    if not -LARGEST_ID <= number <= LARGEST_ID:
        raise invalid(name, "is out of range")
    return number
