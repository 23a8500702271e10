"""Contracts are the only names one service uses of another.

Every RPC a service (through its `RpcProxy` attributes, `self.incidents.get_incident(...)` or
a proxy passed on as `incidents`) or the edge (`rpc.call(c.SERVICE, c.NAME, ...)`) calls
must be an `@rpc` method of the target service and a name in the target's contracts.py.
Every event a service handles must be declared by the service that dispatches it, and a
service dispatches only the events its own contracts declare.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from nameko.events import EventHandler
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc, RpcProxy

from klaxon.registry import SERVICE_CLASSES, service_class

ROOT = Path(__file__).resolve().parents[2]
SERVICES = tuple(SERVICE_CLASSES)


def contracts(service):
    return importlib.import_module(f"services.{service}.contracts")


def declared(service):
    module = contracts(service)
    return {value for name, value in vars(module).items() if name.isupper() and isinstance(value, str)}


def entrypoints(service, kind):
    for name, member in inspect.getmembers(service_class(service)):
        for extension in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(extension, kind):
                yield name, extension


def rpc_methods(service):
    return {name for name, _ in entrypoints(service, Rpc)}


def proxies(service):
    """{attribute: target service} of a service's RpcProxy dependencies."""
    members = vars(service_class(service)).items()
    return {name: member.target_service for name, member in members if isinstance(member, RpcProxy)}


def contract_aliases(tree):
    """{local name: service} for `from services.<service> import contracts as <name>`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("services."):
            for alias in node.names:
                if alias.name == "contracts":
                    aliases[alias.asname or alias.name] = node.module.split(".")[1]
    return aliases


def contract_name(node, aliases):
    """(service, value) of `<alias>.<NAME>` naming a contracts constant, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
        service = aliases[node.value.id]
        return service, getattr(contracts(service), node.attr, None)
    return None


def proxy_target(node, proxy_names):
    """The proxy attribute `node` names: `self.<proxy>` or a `<proxy>` passed along."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr if node.attr in proxy_names else None
    if isinstance(node, ast.Name) and node.id in proxy_names:
        return node.id
    return None


def is_rpc_call(func):
    """`rpc.call` or `<anything>.rpc.call`: the edge's RPC client."""
    if not (isinstance(func, ast.Attribute) and func.attr == "call"):
        return False
    owner = func.value
    return (isinstance(owner, ast.Name) and owner.id == "rpc") or (
        isinstance(owner, ast.Attribute) and owner.attr == "rpc"
    )


def rpc_calls(source, caller=None):
    """(target service, method or None, line) of every RPC call in `source`.

    `caller` is the service the module belongs to (its proxies are recognised), or None
    for the edge. A method that is not a contracts constant comes back as None.
    """
    tree = ast.parse(source)
    aliases = contract_aliases(tree)
    proxy_names = proxies(caller) if caller else {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        proxy = proxy_target(node.func.value, proxy_names)
        if proxy is not None:
            yield proxy_names[proxy], node.func.attr, node.lineno
        elif is_rpc_call(node.func):
            yield edge_call(node, aliases)


def edge_call(node, aliases):
    target = contract_name(node.args[0], aliases) if node.args else None
    method = contract_name(node.args[1], aliases) if len(node.args) > 1 else None
    service = target[0] if target and target[1] == contracts(target[0]).SERVICE else None
    if method is None or method[0] != service:
        return service, None, node.lineno
    return service, method[1], node.lineno


def undeclared(source, caller=None):
    """A line per call in `source` that is not a declared `@rpc` method of its target."""
    problems = []
    for target, method, line in rpc_calls(source, caller):
        if target is None or method is None:
            problems.append(f"{line}: name the service and method with the owner's contracts constants")
        elif method not in rpc_methods(target) or method not in declared(target):
            problems.append(f"{line}: {target}.{method} is not an @rpc method declared in its contracts.py")
    return problems


def modules():
    for service in SERVICES:
        for path in sorted((ROOT / "services" / service).rglob("*.py")):
            yield path, service
    for path in sorted((ROOT / "edge").rglob("*.py")):
        yield path, None


def test_every_rpc_call_is_a_declared_rpc_method_of_its_owner():
    problems = [
        f"{path.relative_to(ROOT)}:{problem}"
        for path, caller in modules()
        for problem in undeclared(path.read_text(), caller)
    ]
    assert problems == []


def test_the_scan_sees_the_calls_it_checks():
    found = {
        (caller or "edge", target, method)
        for path, caller in modules()
        for target, method, _ in rpc_calls(path.read_text(), caller)
    }
    assert ("alerts", "incidents", "correlate_many") in found
    assert ("oncall", "incidents", "get_incident") in found
    assert ("notifications", "incidents", "get_incident") in found
    assert ("incidents", "alerts", "list_alerts") in found
    assert ("edge", "alerts", "list_integrations") in found
    assert ("edge", "oncall", "current") in found


@pytest.mark.parametrize(
    ("source", "caller"),
    [
        ("def f(incidents):\n    incidents.no_such_method(1)\n", "alerts"),
        ("class S:\n    def f(self):\n        self.incidents.correlate({})\n", "alerts"),
        ("from services.alerts import contracts as c\nrpc.call(c.SERVICE, 'list_integrations')\n", None),
        (
            "from services.alerts import contracts as c\nfrom services.oncall import contracts as o\n"
            "self.rpc.call(c.SERVICE, o.CURRENT, 'team')\n",
            None,
        ),
    ],
)
def test_an_undeclared_call_is_caught(source, caller):
    assert len(undeclared(source, caller)) == 1


@pytest.mark.parametrize("service", SERVICES)
def test_handled_events_are_declared_by_the_service_that_dispatches_them(service):
    for name, handler in entrypoints(service, EventHandler):
        source, event = handler.source_service, handler.event_type
        assert event in declared(source), f"{service}.{name}: {source} declares no event {event!r}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_dispatches_only_its_own_events(service):
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        tree = ast.parse(path.read_text())
        aliases = contract_aliases(tree)
        for node in ast.walk(tree):
            func = getattr(node, "func", None)
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "dispatch" and node.args and contract_name(node.args[0], aliases):
                owner, event = contract_name(node.args[0], aliases)
                assert owner == service and event in declared(service), f"{path}:{node.lineno}"
