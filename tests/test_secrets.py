"""A credential never reaches a page, a template context, a log line, the cache or an error page."""

from __future__ import annotations

import base64
import hashlib
import logging
import pickle
from http import HTTPStatus

import pytest
import requests
from django.core.cache import cache
from django.test import override_settings
from django.test.signals import template_rendered

from lookup import services
from lookup.sandbox.faults import FAULT_IDS

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password"
SECRET = "demo-secret"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
BASIC = base64.b64encode(f"demo.till:{MD5}".encode()).decode()


def cache_dump() -> str:
    """Return every cached value as text, for the local-memory and Redis backends."""
    backend = cache._cache if hasattr(cache, "_cache") else None
    if isinstance(backend, dict):  # LocMemCache: pickled values
        return "\n".join(repr(pickle.loads(value)) for value in backend.values())
    client = cache._cache.get_client()
    return "\n".join(
        repr(cache._cache._serializer.loads(client.get(key))) for key in client.scan_iter("*")
    )


def secrets_in(text: str, token: str | None = None) -> list[str]:
    found = [
        name
        for name, value in [
            ("password", PASSWORD),
            ("secret", SECRET),
            ("md5", MD5),
            ("basic", BASIC),
        ]
        if value in text
    ]
    if token and token in text:
        found.append("oauth token")
    return found


@pytest.fixture
def contexts():
    seen: list[str] = []

    def capture(sender, context, **kwargs):
        seen.append(repr(context.flatten() if hasattr(context, "flatten") else context))

    template_rendered.connect(capture)
    yield seen
    template_rendered.disconnect(capture)


@pytest.mark.parametrize("auth_mode", ["basic", "oauth"])
def test_no_credential_anywhere(agent_client, org, caplog, contexts, auth_mode):
    org.auth_mode = auth_mode
    org.save()
    caplog.set_level(logging.DEBUG)
    pages, statuses = [], []
    for customer_id in [
        566881933,
        565261498,
        123,
        FAULT_IDS["http_500"],
        FAULT_IDS["html_error"],
        FAULT_IDS["rate_limited"],  # last: after it, the dashboard holds back every lookup
    ]:
        response = agent_client.get(f"/customers/{customer_id}/", {"source": "INSTORE"})
        statuses.append(response.status_code)
        pages.append(response.content.decode())
    response = agent_client.get("/", {"customer_id": "x"})
    statuses.append(response.status_code)
    pages.append(response.content.decode())
    # Each page is the one meant (not, say, a refusal), before it is scanned for secrets.
    assert statuses == [
        HTTPStatus.OK,
        HTTPStatus.OK,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.BAD_GATEWAY,  # http_500
        HTTPStatus.BAD_GATEWAY,  # html_error
        HTTPStatus.TOO_MANY_REQUESTS,  # rate_limited
        HTTPStatus.BAD_REQUEST,  # the search form with a bad id
    ]
    token = None
    if auth_mode == "oauth":
        token = services.client_for(org).auth._token
        assert token  # the OAuth path really ran
    assert secrets_in("\n".join(pages), token) == []
    assert secrets_in("\n".join(contexts), token) == []
    assert secrets_in(caplog.text, token) == []
    assert secrets_in(cache_dump(), token) == []


def test_wrong_credentials_message(agent_client, org):
    org.set_till_password("a-wrong-password")
    org.save()
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    body = response.content.decode()
    assert "a-wrong-password" not in body
    assert hashlib.md5(b"a-wrong-password").hexdigest() not in body


def test_exception_page_hides_credentials(agent_client, org, monkeypatch):
    """Even Django's debug page (DEBUG on) shows no credential from the client's frames."""

    def explode(self, request, **kwargs):
        raise RuntimeError("the network card caught fire")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", explode)
    agent_client.raise_request_exception = False
    with override_settings(DEBUG=True):
        response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "the network card caught fire" in body  # it is the technical page
    assert secrets_in(body) == []


def test_production_500_page_has_no_trace(agent_client, org, monkeypatch):
    def explode(self, request, **kwargs):
        raise RuntimeError("the network card caught fire")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", explode)
    agent_client.raise_request_exception = False
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Traceback" not in body and "fire" not in body
    assert secrets_in(body) == []
