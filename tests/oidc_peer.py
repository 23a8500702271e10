"""A real OpenID Connect provider on loopback for the "Sign in with SSO" tests.

The provider is the certified `oidc-provider` npm package, run by Node from
tests/oidc (see provider.mjs there); Klaxon itself never needs Node. Nothing of
the protocol is mocked: tests drive the provider's own authorization, login,
token and JWKS endpoints over HTTP.

    from tests.oidc_peer import follow_login, oidc_provider

    def test_sso(tmp_path):
        clients = [{"client_id": "klaxon", "client_secret": "s3cret",
                    "redirect_uris": ["http://127.0.0.1:8000/auth/oidc/callback"]}]
        accounts = {"alice": {"email": "alice@example.com", "email_verified": True,
                              "name": "Alice", "groups": ["oncall"]}}
        with oidc_provider(tmp_path, clients, accounts) as idp:
            ...  # idp.issuer, idp.metadata
            callback = follow_login(session, authorization_url, "alice", redirect_uri)

Without node/npm, or when the npm install fails, the tests that use it are skipped.
"""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
INSTALL_TIMEOUT = 300
START_TIMEOUT = 30
STOP_GRACE = 5
MIN_NODE = (20, 19)


def _installed():
    return (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").is_file()


def _node_version(node):
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        return tuple(int(part) for part in out.strip().lstrip("v").split(".")[:2])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def ensure_installed():
    """Install the provider's npm packages (once), or skip the calling test.

    Returns the path of the node executable.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("OIDC provider tests need Node.js and npm (node/npm not found on PATH)")
    version = _node_version(node)
    if version is None or version < MIN_NODE:
        pytest.skip(f"OIDC provider tests need Node.js >= {'.'.join(map(str, MIN_NODE))}, found {version}")
    if _installed():
        return node
    # Several test processes may get here at once: one installs, the others wait for it.
    lock_path = Path(tempfile.gettempdir()) / "klaxon-oidc-npm-ci.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return node
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=OIDC_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"`npm ci` in {OIDC_DIR} did not finish within {INSTALL_TIMEOUT} s")
        except OSError as exc:
            pytest.skip(f"`npm ci` in {OIDC_DIR} could not run: {exc}")
        if result.returncode != 0 or not _installed():
            tail = (result.stdout + result.stderr).strip()[-2000:]
            pytest.skip(f"`npm ci` in {OIDC_DIR} failed (exit {result.returncode}):\n{tail}")
    return node


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OIDCProvider:
    issuer: str
    metadata: dict
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log(self):
        return self.log_path.read_text(errors="replace")


def _stop(process):
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE)


def _start(node, config_path, log_path):
    """Start the provider and wait until its discovery document answers 200.

    Returns (process, issuer, metadata), or (None, reason) when the process died
    before answering (the free port may have been taken meanwhile: callers retry).
    """
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        log.write(f"--- starting provider on {issuer}\n".encode())
        log.flush()
        process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), str(config_path), str(port)],
            cwd=OIDC_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    discovery = f"{issuer}/.well-known/openid-configuration"
    while True:
        try:
            response = requests.get(discovery, timeout=2)
            if response.status_code == 200:
                return process, issuer, response.json()
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            _stop(process)
            return None, f"no 200 from {discovery} within {START_TIMEOUT} s"
        try:
            # Doubles as the pause between polls and the check that node is still alive.
            code = process.wait(timeout=0.05)
            return None, f"node exited with code {code} before answering"
        except subprocess.TimeoutExpired:
            pass


@contextlib.contextmanager
def oidc_provider(tmp_path, clients, accounts):
    """Run a real OpenID Connect provider on 127.0.0.1 for the duration of the block.

    clients: [{"client_id", "client_secret", "redirect_uris": [...]}]
             ("token_endpoint_auth_method" optional; basic and post are both accepted)
    accounts: {"<login>": {"email", "email_verified", "name", "groups"}}
    Yields an OIDCProvider with .issuer and .metadata (the discovery document).
    """
    node = ensure_installed()
    tmp_path = Path(tmp_path)
    config_path = tmp_path / "oidc-provider.json"
    config_path.write_text(json.dumps({"clients": clients, "accounts": accounts}, indent=2))
    log_path = tmp_path / "oidc-provider.log"
    log_path.write_bytes(b"")
    reasons = []
    for _attempt in range(3):
        started = _start(node, config_path, log_path)
        if started[0] is not None:
            break
        reasons.append(started[1])
        with open(log_path, "a") as log:
            log.write(f"--- provider attempt failed: {started[1]}\n")
    else:
        log = log_path.read_text(errors="replace")
        print(f"OIDC provider log ({log_path}):\n{log}")
        raise RuntimeError(f"OIDC provider did not start: {'; '.join(reasons)}\n{log}")
    process, issuer, metadata = started
    try:
        yield OIDCProvider(issuer=issuer, metadata=metadata, log_path=log_path, process=process)
    finally:
        _stop(process)


class _Forms(HTMLParser):
    """The forms of a page (action, method, fields from <input> and named <button>s)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.text = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
                "inputs": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button") and attrs.get("name"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            self._form["inputs"].append((attrs["name"], kind))
            if kind not in ("submit", "button", "image", "reset"):
                self._form["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def _names(form):
    return {name for name, _kind in form["inputs"]}


def follow_login(session, authorization_url, login, redirect_uri, password="any", max_steps=20):
    """Sign `login` in at the provider, as a browser would, up to the client's callback.

    Opens authorization_url with `session` (a requests.Session whose cookies act as the
    browser's), submits the provider's login form (and its consent form, should one be
    shown), follows the provider's redirects and stops at, without requesting, the first
    redirect to redirect_uri. Returns that callback URL (with `code` and `state`, or
    `error` when the provider refused).
    """
    url = authorization_url
    response = session.get(url, allow_redirects=False, timeout=10)
    logins = 0
    for _step in range(max_steps):
        if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise AssertionError(f"redirect without Location from {url}")
            url = urljoin(response.url, location)
            if url.startswith(redirect_uri):
                return url
            response = session.get(url, allow_redirects=False, timeout=10)
            continue
        page = _Forms()
        page.feed(response.text)
        page.close()
        form = next((f for f in page.forms if "login" in _names(f)), None)
        if form is not None:
            logins += 1
            if logins > 1:
                raise AssertionError(
                    f"the provider asked for a login again after {login!r} signed in "
                    f"(unknown account?): {' '.join(page.text)[-500:]}"
                )
            data = dict(form["fields"], login=login)
            if "password" in _names(form):
                data["password"] = password
        elif page.forms and response.status_code == 200:
            # Consent (or any other one-button step): submit it as shown.
            form = page.forms[0]
            data = dict(form["fields"])
        else:
            raise AssertionError(
                f"unexpected answer {response.status_code} from {url}: "
                f"{' '.join(page.text)[-1000:] or response.text[:1000]}"
            )
        action = urljoin(response.url, form["action"]) if form["action"] else response.url
        if action.startswith(redirect_uri):
            raise AssertionError(
                f"the provider answered with a form posting to {redirect_uri} "
                "(response_mode=form_post?); follow_login only handles redirects"
            )
        if form["method"] == "post":
            response = session.post(action, data=data, allow_redirects=False, timeout=10)
        else:
            response = session.get(action, params=data, allow_redirects=False, timeout=10)
        url = action
    raise AssertionError(f"no redirect to {redirect_uri} after {max_steps} steps (last: {url})")
