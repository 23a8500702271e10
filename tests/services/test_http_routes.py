"""The services' `http` entrypoint: a handler is checked against its URL once, at start."""

import functools

import pytest
from nameko.exceptions import IncorrectSignature
from nameko.web.handlers import HttpRequestHandler

from services.alerts.service import AlertsService
from services.shared.web import check_route_signature, http
from tests.entrypoints import SERVICES, entrypoints_of


def decorated(handler):
    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):  # takes anything, as json_api's does
        return handler(self, request, *args, **kwargs)

    return wrapper


class Items:
    name = "items"

    @http("GET", "/items/<item_id>")
    def get_item(self, request, item_id):
        return 200, f"item {item_id}"

    @http("GET", "/items/<item_id>/notes/<note_id>")
    @decorated
    def get_note(self, request, item_id, note_id):
        return 200, f"note {note_id} of {item_id}"


class MisnamedVariable:
    name = "misnamed"

    @http("GET", "/items/<id>")
    @decorated
    def get_item(self, request, item_id):
        return 200, item_id


def routes_of(service_cls):
    for method, entrypoint in entrypoints_of(service_cls):
        if isinstance(entrypoint, HttpRequestHandler):
            yield method, entrypoint.url


@pytest.mark.parametrize("service_cls", SERVICES, ids=lambda cls: cls.name)
def test_every_route_of_every_service_takes_its_urls_variables(service_cls):
    routes = list(routes_of(service_cls))
    assert any("<" in url for _, url in routes), "expected routes with URL variables"
    for handler, url in routes:
        check_route_signature(handler, url)


def test_a_handler_is_checked_through_its_decorators():
    check_route_signature(Items.get_note, "/items/<item_id>/notes/<note_id>")
    with pytest.raises(IncorrectSignature, match="missing a required argument: 'note_id'"):
        check_route_signature(Items.get_note, "/items/<item_id>/notes/<nid>")
    with pytest.raises(IncorrectSignature, match="unexpected keyword argument 'item_id'"):
        check_route_signature(AlertsService.http_list_alerts, "/api/v1/alerts/<item_id>")


def test_routes_that_check_out_serve_their_variables(
    container_factory, service_config, web_config, web_session
):
    container_factory(Items, {**service_config, **web_config}).start()
    assert web_session.get("/items/7").text == "item 7"
    assert web_session.get("/items/7/notes/3").text == "note 3 of 7"


def test_a_service_whose_handler_cannot_take_its_urls_variables_does_not_start(
    container_factory, service_config
):
    container = container_factory(MisnamedVariable, service_config)
    with pytest.raises(IncorrectSignature, match="MisnamedVariable.get_item cannot serve /items/<id>"):
        container.start()
