"""The audit trail: what is written, that it cannot change, browsing, export, pruning."""

from __future__ import annotations

import csv
import datetime as dt
import io
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import timezone

from lookup import audit, roles
from lookup.models import AuditRecord
from tests.conftest import CUSTOMER

pytestmark = pytest.mark.django_db
PAGE = f"/customers/{CUSTOMER}/?source=INSTORE"


def _add(org, *, days_ago: float = 0, **fields) -> AuditRecord:
    values = {
        "username": "someone",
        "org_id": org.pk,
        "org_slug": org.slug,
        "customer_id": CUSTOMER,
        "source": "INSTORE",
        "action": "lookup",
        "at": timezone.now() - dt.timedelta(days=days_ago),
    }
    values.update(fields)
    return AuditRecord.objects.create(**values)


def test_page_view_is_recorded(as_role, sandbox):
    client = as_role(roles.STORE_MANAGER)
    first = client.get(PAGE, REMOTE_ADDR="10.1.2.3")
    client.get(PAGE)
    lookups = list(AuditRecord.objects.filter(action="lookup").order_by("id"))
    assert len(lookups) == 2
    record = lookups[0]
    assert record.username == "storemanager"
    assert (record.customer_id, record.source, record.org_slug) == (CUSTOMER, "INSTORE", "sandbox")
    assert record.outcome == "ok"
    assert record.client_ip == "10.1.2.3"
    assert record.request_id == first["X-Request-ID"]
    assert record.cache_hit is False and lookups[1].cache_hit is True


def test_tab_view_is_recorded(as_role, sandbox):
    client = as_role(roles.STORE_MANAGER)
    url = f"/customers/{CUSTOMER}/tabs/loyalty/?source=INSTORE"
    client.get(url, HTTP_HX_REQUEST="true")
    client.get(url, HTTP_HX_REQUEST="true")
    tabs = list(AuditRecord.objects.filter(action="tab").order_by("id"))
    assert [(t.detail, t.outcome) for t in tabs] == [("loyalty", "ok"), ("loyalty", "ok")]
    assert tabs[0].cache_hit is False and tabs[1].cache_hit is True


def test_failed_tab_is_recorded(as_role, sandbox):
    sandbox.set_fault(CUSTOMER, "http_500")
    as_role(roles.STORE_MANAGER).get(
        f"/customers/{CUSTOMER}/tabs/cards/?source=INSTORE", HTTP_HX_REQUEST="true"
    )
    record = AuditRecord.objects.get(action="tab")
    assert record.outcome == "upstream_error"


def test_not_found_is_recorded(as_role, sandbox):
    as_role(roles.STORE_MANAGER).get("/customers/999999999/?source=INSTORE")
    assert AuditRecord.objects.filter(customer_id=999999999, outcome="not_found").exists()


def test_record_is_one_insert(rf, org, django_assert_num_queries, make_user):
    request = rf.get("/")
    request.user = make_user("cheap", None, None)
    with django_assert_num_queries(1):
        audit.record(request, "lookup", org=org, customer_id=CUSTOMER, cache_hit=True)


def test_records_cannot_change(org):
    record = _add(org)
    record.outcome = "denied"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        AuditRecord.objects.filter(pk=record.pk).update(outcome="denied")
    assert AuditRecord.objects.get().outcome == "ok"


def test_admin_is_read_only(client, org, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(root)
    record = _add(org)
    assert client.get("/admin/lookup/auditrecord/").status_code == HTTPStatus.OK
    assert client.get("/admin/lookup/auditrecord/add/").status_code == HTTPStatus.FORBIDDEN
    change = client.post(f"/admin/lookup/auditrecord/{record.pk}/change/", {"outcome": "denied"})
    assert change.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN)
    delete = client.post(f"/admin/lookup/auditrecord/{record.pk}/delete/", {"post": "yes"})
    assert delete.status_code == HTTPStatus.FORBIDDEN
    bulk = client.post(
        "/admin/lookup/auditrecord/",
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )
    assert bulk.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert AuditRecord.objects.get().outcome == "ok"


def test_browse_filter_and_page(as_role, org, settings):
    settings.AUDIT_PAGE_SIZE = 2
    for i in range(5):
        _add(org, username="ana", days_ago=i)
    _add(org, username="bo", action="reveal", customer_id=42)
    client = as_role(roles.LOYALTY_OPS)
    page = client.get("/audit/")
    assert page.status_code == HTTPStatus.OK
    assert "Page 1 of 3" in page.content.decode()
    assert client.get("/audit/", {"page": 3}).context["page"].number == 3
    assert client.get("/audit/", {"user": "bo"}).context["page"].paginator.count == 1
    assert client.get("/audit/", {"customer": 42}).context["page"].paginator.count == 1
    assert client.get("/audit/", {"action": "reveal"}).context["page"].paginator.count == 1
    today = timezone.localdate()
    recent = client.get("/audit/", {"start": (today - dt.timedelta(days=1)).isoformat()})
    assert recent.context["page"].paginator.count == 3  # ana today and yesterday, bo
    bad = client.get("/audit/", {"customer": "abc", "start": "yesterday"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


def test_browse_only_own_orgs(as_role, org):
    from lookup.models import Org

    other = Org.objects.create(name="Other", slug="other", base_url="http://127.0.0.1:9")
    _add(other, username="elsewhere")
    response = as_role(roles.LOYALTY_OPS).get("/audit/")
    assert response.status_code == HTTPStatus.OK
    assert "elsewhere" not in response.content.decode()


def test_export_streams_csv(as_role, org):
    for _ in range(3):
        _add(org)
    _add(org, username="=cmd|calc", action="reveal", reason="+ticket")
    client = as_role(roles.LOYALTY_OPS)
    response = client.get("/audit/export.csv", {"user": "=cmd|calc"})
    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "username", "org_slug"]
    assert len(rows) == 2
    assert rows[1][1] == "'=cmd|calc" and rows[1][7] == "'+ticket"  # no spreadsheet formulas
    assert AuditRecord.objects.filter(action="export", username="loyaltyops").exists()


def test_export_uses_an_iterator(as_role, org, monkeypatch):
    from django.db.models.query import QuerySet

    sizes = []
    real = QuerySet.iterator

    def spy(self, chunk_size=None):
        sizes.append(chunk_size)
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    _add(org)
    response = as_role(roles.LOYALTY_OPS).get("/audit/export.csv")
    b"".join(response.streaming_content)
    assert sizes == [2000]


def test_prune(org, settings):
    settings.AUDIT_RETENTION_DAYS = 400
    _add(org, days_ago=401)
    _add(org, days_ago=399)
    out = io.StringIO()
    call_command("prune_audit", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 records")
    assert AuditRecord.objects.count() == 2
    call_command("prune_audit", stdout=io.StringIO())
    assert AuditRecord.objects.count() == 1
    call_command("prune_audit", "--days", "1", stdout=io.StringIO())
    assert AuditRecord.objects.count() == 0


def test_who_looked(rf, org, make_user):
    _add(org, username="ana", action="lookup")
    _add(org, username="bo", action="reveal", detail="profiles.0.identifiers.0.value")
    _add(org, username="cy", action="denied")  # attempts are not "looks"
    request = rf.get("/")
    request.user = make_user("ops", roles.LOYALTY_OPS, org)
    context = audit.who_looked_context(request, org, CUSTOMER)
    assert [row["username"] for row in context["who_looked"]] == ["bo", "ana"]
    html = render_to_string("lookup/_who-looked.html", context, request)
    assert "Who looked" in html and "bo" in html and "cy" not in html
    request.user = make_user("shop", roles.STORE_MANAGER, org)
    assert audit.who_looked_context(request, org, CUSTOMER) == {"who_looked": None}
    assert "Who looked" not in render_to_string(
        "lookup/_who-looked.html", {"who_looked": None}, request
    )


def test_records_outlive_users_and_orgs(org, make_user):
    user = make_user("leaver", None, org)
    _add(org, user_id=user.pk, username="leaver")
    written = list(AuditRecord.objects.values())
    assert written[0]["user_id"] == user.pk and written[0]["org_id"] == org.pk
    user.delete()
    org.delete()
    assert list(AuditRecord.objects.values()) == written


def test_denied_attempt_is_shown_to_the_reviewers_of_the_org_asked_for(
    client, org, make_user, sandbox
):
    from lookup.models import Org

    other = Org.objects.create(name="Other", slug="other", base_url=sandbox.url)
    client.force_login(make_user("prober", roles.STORE_MANAGER, org))
    assert client.get(f"/customers/{CUSTOMER}/?org=other").status_code == HTTPStatus.NOT_FOUND
    record = AuditRecord.objects.get(action="denied")
    assert (record.org_id, record.org_slug, record.requested_org) == (other.pk, "other", "")
    assert (record.username, record.customer_id, record.detail) == ("prober", CUSTOMER, "org")
    client.force_login(make_user("other-ops", roles.LOYALTY_OPS, other))
    assert client.get("/audit/", {"outcome": "denied"}).context["page"].paginator.count == 1
    client.force_login(make_user("sandbox-ops", roles.LOYALTY_OPS, org))
    assert client.get("/audit/", {"outcome": "denied"}).context["page"].paginator.count == 0


def test_denied_attempt_on_no_such_org_keeps_the_text(
    client, org, django_user_model, make_user, sandbox
):
    client.force_login(make_user("prober", roles.STORE_MANAGER, org))
    client.get(f"/customers/{CUSTOMER}/", {"org": "no-such-org\x00"})
    record = AuditRecord.objects.get(action="denied")
    assert (record.org_id, record.org_slug, record.requested_org) == (None, "", "no-such-org")
    root = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(root)
    assert "no-such-org (no such org)" in client.get("/audit/").content.decode()


def test_who_looked_on_the_customer_page(as_role, sandbox):
    response = as_role(roles.LOYALTY_OPS).get(PAGE)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Who looked" in html and "loyaltyops" in html


def test_no_who_looked_for_store_managers(as_role, sandbox):
    response = as_role(roles.STORE_MANAGER).get(PAGE)
    assert response.status_code == HTTPStatus.OK
    assert "Bubalus" in response.content.decode()  # the page is there, without the panel
    assert "Who looked" not in response.content.decode()


@pytest.mark.parametrize("cache_hit", [True, False, None])
def test_record_reads_back_exactly(rf, org, make_user, cache_hit):
    """A record stores every field as given, and stays write-once."""
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    request.user = make_user("exact", None, None)
    request.request_id = "req-0123456789"
    before = timezone.now()
    entry = audit.record(
        request, "reveal", org=org, customer_id=CUSTOMER, source="INSTORE",
        outcome="ok", cache_hit=cache_hit, detail="identifiers/0/value", reason="ticket\x00 42",
    )  # fmt: skip
    stored = AuditRecord.objects.get(pk=entry.pk)
    assert before <= stored.at <= timezone.now() and stored.at == entry.at
    assert (stored.user_id, stored.username) == (request.user.pk, "exact")
    assert (stored.org_id, stored.org_slug, stored.requested_org) == (org.pk, org.slug, "")
    assert (stored.customer_id, stored.source, stored.action) == (CUSTOMER, "INSTORE", "reveal")
    assert (stored.detail, stored.reason) == ("identifiers/0/value", "ticket 42")
    assert (stored.outcome, stored.cache_hit) == ("ok", cache_hit)
    assert (stored.client_ip, stored.request_id) == ("10.1.2.3", "req-0123456789")
    with pytest.raises(PermissionError):
        entry.save()  # the returned record is a saved one: it cannot be changed either
