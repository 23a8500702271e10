"""The edge's access log (KLAXON_ACCESS_LOG=1): gunicorn's lines, credentials left out.

A request can carry a credential where an access line would print it: an integration
key in the query (`?integration_key=`), a calendar feed's secret or an acknowledge link's
token in the path, a bearer token, a key or a session cookie in a header. A response
can too: the session cookie a sign-in sets, a redirect's Location. Every atom a log
format can name shows them as REDACTED, whatever `access_log_format` says.
"""

from gunicorn import glogging

from services.shared.redaction import HIDDEN, hidden_path, hidden_target, hidden_url, hide_query_secrets

SECRET_HEADERS = (
    "authorization",
    "cookie",
    "x-klaxon-integration-key",
    "x-csrf-token",
    "proxy-authorization",
)
SECRET_ENVIRON = {"http_" + name.replace("-", "_") for name in SECRET_HEADERS}
# How each response header that can hold a credential is shown: a sign-in sets the
# session cookie; a redirect (single sign-on's, say) can carry a code in its query.
RESPONSE_HEADER_SHOWN_AS = {
    "set-cookie": lambda value: HIDDEN,
    "location": hidden_url,
}


class AccessLogger(glogging.Logger):
    """gunicorn's logger (`logger_class` in edge/gunicorn_conf.py) whose atoms hide secrets."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        method, protocol = environ.get("REQUEST_METHOD", "-"), environ.get("SERVER_PROTOCOL", "-")
        atoms["r"] = f"{method} {hidden_target(environ.get('RAW_URI'))} {protocol}"
        atoms["U"] = hidden_path(environ.get("PATH_INFO"))
        atoms["q"] = hide_query_secrets(environ.get("QUERY_STRING") or "")
        atoms["f"] = hidden_url(environ.get("HTTP_REFERER", "-"))
        return {**atoms, **hidden_headers(atoms), **hidden_response_headers(atoms), **hidden_environ(atoms)}


def atom(name, kind):
    """The key of a request header's (`i`), a response header's (`o`) or an environ
    variable's (`e`) atom."""
    return "{" + name + "}" + kind


# How each request header that can hold a credential is shown: the Referer as `f` is.
REQUEST_HEADER_SHOWN_AS = {
    "referer": hidden_url,
    **{name: lambda value: HIDDEN for name in SECRET_HEADERS},
}


def hidden_headers(atoms):
    """The `{name}i` atoms that would show a credential, hidden."""
    return hidden_atoms(atoms, "i", REQUEST_HEADER_SHOWN_AS)


# How each environ variable that can hold a credential is shown.
ENVIRON_SHOWN_AS = {
    "raw_uri": hidden_target,
    "request_uri": hidden_target,
    "path_info": hidden_path,
    "query_string": hide_query_secrets,
    "http_referer": hidden_url,
    **{name: lambda value: HIDDEN for name in SECRET_ENVIRON},
}


def hidden_response_headers(atoms):
    """The `{name}o` atoms that would show a credential, hidden."""
    return hidden_atoms(atoms, "o", RESPONSE_HEADER_SHOWN_AS)


def hidden_environ(atoms):
    """The `{name}e` atoms that would show a credential, hidden."""
    return hidden_atoms(atoms, "e", ENVIRON_SHOWN_AS)


def hidden_atoms(atoms, kind, shown_as):
    """Each atom of this kind that `shown_as` names, shown as it says."""
    return {
        atom(name, kind): shown(atoms[atom(name, kind)])
        for name, shown in shown_as.items()
        if atom(name, kind) in atoms
    }
