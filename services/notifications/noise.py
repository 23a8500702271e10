"""Noise control: at most `limit` pages per contact method in any `window_seconds`.

Pages beyond it are held, not dropped; when the window has room again, everything held
for that contact method goes out as one summary message.
"""

from dataclasses import dataclass
from types import SimpleNamespace


@dataclass(frozen=True)
class RateLimit:
    limit: int = 5
    window_seconds: float = 60.0

    @classmethod
    def from_config(cls, config):
        return cls(
            limit=int(config.get("NOTIFY_RATE_LIMIT", 5)),
            window_seconds=float(config.get("NOTIFY_RATE_WINDOW_SECONDS", 60)),
        )


def summary_of(rows):
    """One ledger-row-like page standing for every held row of one contact method."""
    first = rows[0]
    lines = [f"- {row.subject or row.message} (incident #{row.incident_id}, step {row.step})" for row in rows]
    return SimpleNamespace(
        incident_id=None,
        step=None,
        recipient=first.recipient,
        channel=first.channel,
        address=first.address,
        secret=first.secret,
        subject=f"{len(rows)} pages held back while you were paged often",
        message="\n".join(lines),
    )
