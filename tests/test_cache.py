"""The cache of Capillary answers: keys, freshness, images, PII purge, permission, refresh limit."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from cryptography.fernet import Fernet
from django.core.cache import cache as django_cache
from django.template.loader import render_to_string

from lookup import crypto as lookup_crypto
from lookup import services
from lookup.capillary import CustomerQuery
from lookup.capillary.errors import CustomerDeleted
from lookup.services import store
from tests.conftest import CUSTOMER, calls

SEED = CUSTOMER
OTHER = 100000000


def test_key_ignores_order():
    one = CustomerQuery.parse("42", source="instore", embed="points,mlp", ndncStatus="true")
    two = CustomerQuery.parse("42", ndncStatus="1", embed=["mlp", "POINTS"], source="INSTORE")
    assert store.entry_key(1, one) == store.entry_key(1, two)


def test_key_tells_apart():
    base = CustomerQuery(customer_id=42)
    keys = {
        store.entry_key(1, base),
        store.entry_key(2, base),
        store.entry_key(1, base.replace(customer_id=43)),
        store.entry_key(1, base.replace(source="MARTJACK")),
        store.entry_key(1, base.replace(account_id="acc-1")),
        store.entry_key(1, base.replace(embed=frozenset({"points"}))),
        store.entry_key(1, base.replace(optin_status=True)),
    }
    assert len(keys) == 7
    assert all(k.startswith(f"{store.NAMESPACE}:c:") for k in keys)


def test_kinds():
    base = CustomerQuery(customer_id=42)
    assert store.kind_of(base) == "base"
    assert store.kind_of(base.replace(embed=frozenset({"points"}))) == "points"
    assert store.kind_of(base.replace(embed=frozenset({"customerImage"}))) == "images"


def test_fresh_then_stale_then_gone(org, sandbox, clock):
    query = CustomerQuery(customer_id=SEED)
    first = services.fetch_customer(org, query)
    assert not first.from_cache and calls(sandbox) == 1

    clock.advance(59)
    again = services.fetch_customer(org, query)
    assert again.from_cache and not again.revalidating and calls(sandbox) == 1
    assert again.customer.id == SEED and round(again.age_seconds) == 59

    clock.advance(2)  # past 60 s: served at once, refreshed once in the background
    stale = services.fetch_customer(org, query)
    assert stale.from_cache and stale.revalidating and not stale.stale
    assert services.wait_for_refreshes()
    assert calls(sandbox) == 2

    clock.advance(901)  # past the usable window of the refreshed copy: a plain miss
    cold = services.fetch_customer(org, query)
    assert not cold.from_cache and calls(sandbox) == 3


def test_freshness_per_kind(org, sandbox, clock, settings):
    settings.CACHE_FRESH_OVERRIDES = {"points": 10}
    base, points = CustomerQuery(customer_id=SEED), CustomerQuery(customer_id=SEED, embed="points")
    parts = {"base": base, "points": points}
    services.fetch(org, parts)
    clock.advance(11)
    results = services.fetch(org, parts)
    assert not results["base"].revalidating
    assert results["points"].revalidating


def test_entry_holds_text_not_html(org, sandbox):
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    stored = django_cache.get(store.entry_key(org.pk, query))
    assert set(stored) == {
        "body", "request_id", "path", "params", "fetched_at", "fresh_until",
        "stale_until", "generation",
    }  # fmt: skip
    assert "Bubalus" not in stored["body"]  # encrypted at rest
    assert lookup_crypto.decrypt(stored["body"]).lstrip().startswith("{")
    assert "<html" not in lookup_crypto.decrypt(stored["body"])
    assert "demo-password" not in repr(stored)


def test_entry_under_a_retired_key_is_a_miss(org, sandbox, settings):
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    assert store.read(org.pk, query)[0] is None


def test_failure_not_cached(org, sandbox):
    query = CustomerQuery(customer_id=900000500)
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - the class is not the point here
            services.fetch_customer(org, query)
    assert calls(sandbox) == 2
    assert store.read(org.pk, query)[0] is None


def test_images_not_kept_past_expiry(org, sandbox, clock, settings):
    settings.CACHE_STALE_OVERRIDES = {"images": 7200}
    query = CustomerQuery(customer_id=SEED, embed="customerImage")
    data = services.fetch_customer(org, query)
    expiry = store.image_expiry(data.customer)
    entry = store.read(org.pk, query)[0]
    assert expiry is not None
    assert entry.stale_until == expiry - settings.CACHE_IMAGE_MARGIN_SECONDS
    clock.t = entry.stale_until + 1
    services.fetch_customer(org, query)
    assert calls(sandbox) == 2


def test_pii_delete_purges_customer(org, sandbox):
    queries = [
        CustomerQuery(customer_id=SEED),
        CustomerQuery(customer_id=SEED, embed="points"),
        CustomerQuery(customer_id=SEED, embed="mlp", gap_to_upgrade=30),
        CustomerQuery(customer_id=SEED, source="ALL"),
    ]
    other = CustomerQuery(customer_id=OTHER)
    services.fetch(org, {str(i): q for i, q in enumerate([*queries, other])})
    assert all(store.read(org.pk, q)[0] for q in queries)

    sandbox.set_fault(SEED, "pii_deleted")
    with pytest.raises(CustomerDeleted):
        services.fetch_customer(org, queries[0], refresh=True)
    assert [store.read(org.pk, q)[0] for q in queries] == [None] * 4
    assert store.read(org.pk, other)[0] is not None


def test_refresh_bypasses_freshness(org, sandbox):
    query = CustomerQuery(customer_id=SEED)
    first = services.fetch_customer(org, query)
    again = services.fetch_customer(org, query, refresh=True)
    assert not again.from_cache and again.fetched_at >= first.fetched_at
    assert calls(sandbox) == 2


def test_refresh_limit(org, clock, settings):
    settings.REFRESH_LIMIT = 5
    assert [services.allow_refresh(1, org, SEED) for _ in range(6)] == [True] * 5 + [False]
    assert services.allow_refresh(2, org, SEED)  # per user
    clock.advance(settings.REFRESH_WINDOW_SECONDS)
    assert services.allow_refresh(1, org, SEED)


def test_banner_text(org, sandbox, clock):
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    clock.advance(6 * 60)
    sandbox.set_fault(SEED, "http_503")
    data = services.fetch_customer(org, query, refresh=True)
    html = render_to_string(
        "lookup/_freshness.html", {"data": data, "refresh_url": "/r", "tz": "UTC"}
    )
    hhmm = data.fetched_at_datetime.strftime("%H:%M")
    assert "Capillary failed (HTTP 503); showing data from" in html
    assert f">{hhmm} UTC</time>, 6 min ago." in html  # every clock time names its zone
    assert 'href="/r"' in html


def test_permission_checked_before_cache(client, django_user_model, org, sandbox, monkeypatch):
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    seen: list[str] = []
    real_get_many = django_cache.get_many

    def spy(keys, *args, **kwargs):
        seen.extend(keys)
        return real_get_many(keys, *args, **kwargs)

    monkeypatch.setattr(django_cache, "get_many", spy)
    stranger = django_user_model.objects.create_user("stranger", password="x-pass-12345")
    client.force_login(stranger)
    before = calls(sandbox)
    response = client.get(f"/customers/{SEED}/?source=INSTORE&org={org.slug}")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert calls(sandbox) == before
    assert not [k for k in seen if k.startswith(store.NAMESPACE)]
