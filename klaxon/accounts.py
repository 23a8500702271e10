"""`klaxon user …` and `klaxon token …`, and the first admin of a fresh platform.

They work on the on-call service's database directly, so an operator can get in before
anything runs, and no default password ever ships.
"""

import json
import os
from pathlib import Path

from services.shared import config

FIRST_ADMIN_FILE = "first-admin-password"
ROLE_CHOICES = ("viewer", "responder", "admin")


def add_commands(commands):
    user = commands.add_parser("user", help="create users, reset a password, list users")
    actions = user.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new user; prints a one-time password")
    create.add_argument("email")
    create.add_argument("--role", choices=ROLE_CHOICES, default="responder")
    create.add_argument("--name")
    reset = actions.add_parser("reset-password", help="a new one-time password for a user")
    reset.add_argument("email")
    actions.add_parser("list", help="every user and their role")
    token = commands.add_parser("token", help="create an API token for a user")
    token_actions = token.add_subparsers(dest="action", required=True)
    make = token_actions.add_parser("create", help="a new API token; printed once, on the last line")
    make.add_argument("email")
    make.add_argument("--name", required=True)
    make.add_argument("--role", choices=ROLE_CHOICES, help="lower than the owner's, if you like")
    make.add_argument("--expires-at", help="RFC 3339 instant, e.g. 2027-01-01T00:00:00Z")


def _accounts():
    from klaxon.registry import bind_and_migrate
    from services.oncall.accounts_store import AccountStore
    from services.oncall.models import db

    bind_and_migrate("oncall")
    return db, AccountStore(db, {})


def manage_users(args):
    from services.oncall.access_requests import NewUser
    from services.shared.db import utcnow
    from services.shared.validation import parse

    db, store = _accounts()
    with db.connection_context():
        if args.action == "list":
            for user in store.users():
                login = "" if user["has_login"] else "  (no login)"
                print(f"{user['email']}  {user['role']}{login}")
            return
        if args.action == "create":
            fields = {"email": args.email, "role": args.role, **({"name": args.name} if args.name else {})}
            made = store.create_user(parse(NewUser, fields), "cli", "cli", utcnow())
        else:
            made = store.reset_password(args.email, "cli", "cli", utcnow())
    print(f"{made['user']['email']} ({made['user']['role']}): sign in with this one-time password,")
    print("then choose your own (it is asked at the first sign-in):")
    print(made["one_time_password"])


def manage_tokens(args):
    from services.oncall.access_requests import TokenRequest
    from services.shared.db import utcnow
    from services.shared.validation import parse

    db, store = _accounts()
    fields = {"name": args.name, "role": args.role, "expires_at": args.expires_at}
    request = parse(TokenRequest, {k: v for k, v in fields.items() if v is not None})
    with db.connection_context():
        made = store.create_token(args.email, request, "cli", utcnow())
    shown = {k: made[k] for k in ("id", "name", "prefix", "role", "expires_at")}
    print(f"API token for {args.email}: {json.dumps(shown)}")
    print("It is shown once; send it as Authorization: Bearer <token>:")
    print(made["token"])


def ensure_first_admin():
    """With no admin yet, make one and keep its one-time password in a private file.

    Returns (e-mail, password file) of the first admin made now, or None.
    """
    from services.oncall.access_requests import NewUser
    from services.shared.db import utcnow
    from services.shared.validation import parse

    db, store = _accounts()
    path = Path(config.data_dir()) / FIRST_ADMIN_FILE
    email = config.env("KLAXON_ADMIN_EMAIL", "admin@example.com")
    with db.connection_context():
        if store.has_admin():
            return None
        made = store.create_user(parse(NewUser, {"email": email, "role": "admin"}), "klaxon", "cli", utcnow())
    write_private(path, f"{email}\n{made['one_time_password']}\n")
    return email, path


def write_private(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def announce_first_admin():
    """Make the first admin if there is none; returns where its password is, for the banner."""
    made = ensure_first_admin()
    path = Path(config.data_dir()) / FIRST_ADMIN_FILE
    if made:
        print(f"first admin: {made[0]}; the one-time password is in {made[1]} (readable by you only)")
        return f"{made[0]}, one-time password in {made[1]}"
    if path.exists():
        print(f"first admin: already made; its first password was written to {path}")
        return f"its first password was written to {path}"
    return None
