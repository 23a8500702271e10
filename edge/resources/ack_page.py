"""The small pages a browser gets from an acknowledge link: what it would acknowledge with
a button, what it did, or why it cannot. Every text is escaped: an incident's title comes
from an alert."""

from html import escape

# Nothing but this page's own inline style and a form posting back to the same address.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2433}"
    "h1{font-size:1.3rem}button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;"
    "background:#b3261e;color:#fff;cursor:pointer}.muted{color:#5b6475}"
)


def preview(link):
    """What the link would acknowledge, with the button that does it (unless it was used)."""
    facts = [f"<h1>Incident #{int(link['incident_id'])}</h1>"]
    if link.get("title"):
        facts.append(f"<p>{escape(link['title'])}</p>")
    if link.get("status"):
        facts.append(f'<p class="muted">Status: {escape(link["status"])}</p>')
    facts.append("<p>This link was already used.</p>" if link["used"] else _button(link["recipient"]))
    return _page(f"Acknowledge incident #{int(link['incident_id'])}", facts)


def _button(recipient):
    label = f"Acknowledge as {escape(recipient)}"
    return f'<form method="post"><button type="submit">{label}</button></form>'


def done(outcome):
    incident_id = int(outcome["incident_id"])
    said = f"Incident #{incident_id} is {escape(outcome['status'])}, by {escape(outcome['by'])}."
    return _page(f"Incident #{incident_id}", [f"<h1>{said}</h1>"])


def refused(title, detail):
    return _page(title, [f"<h1>{escape(title)}</h1>", f"<p>{escape(detail)}</p>"])


def _page(title, body):
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Klaxon</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
