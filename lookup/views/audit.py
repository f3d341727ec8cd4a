"""The audit trail: browse, filter and page it; export it as streamed CSV."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from lookup import access, audit, roles
from lookup.forms import WholeNumberField
from lookup.inputs import whole_number
from lookup.models import AuditRecord

CSV_COLUMNS = (
    "at",
    "username",
    "org_slug",
    "customer_id",
    "source",
    "action",
    "detail",
    "reason",
    "outcome",
    "cache_hit",
    "client_ip",
    "request_id",
    "requested_org",
)


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    customer = WholeNumberField(required=False, min_value=1)
    org = forms.ChoiceField(required=False)
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditRecord.Action.choices])
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditRecord.Outcome.choices])
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, orgs: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [("", "Any"), *((o.slug, o.name) for o in orgs)]


def filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditRecord]]:
    """Return the filter form and the records it selects, limited to the viewer's orgs.

    Refused attempts on an org are recorded under it, so its reviewers see them too.
    """
    orgs = access.orgs_for(request.user)
    form = AuditFilterForm(request.GET or None, orgs=orgs)
    records = AuditRecord.objects.all()
    if not request.user.is_superuser:
        records = records.filter(org_id__in=[org.pk for org in orgs])
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        zone = timezone.get_current_timezone()
        if data["user"]:
            records = records.filter(username=data["user"].strip())
        if data["customer"]:
            records = records.filter(customer_id=data["customer"])
        if data["org"]:
            records = records.filter(org_slug=data["org"])
        if data["action"]:
            records = records.filter(action=data["action"])
        if data["outcome"]:
            records = records.filter(outcome=data["outcome"])
        if data["start"]:
            records = records.filter(at__gte=dt.datetime.combine(data["start"], dt.time(), zone))
        if data["end"]:
            end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time(), zone)
            records = records.filter(at__lt=end)
    elif form.is_bound:
        records = records.none()
    return form, records.order_by("-at", "-id")


@access.permission_required(roles.may_see_audit)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """Show the trail, newest first, a page at a time."""
    form, records = filtered(request)
    number = whole_number(request.GET.get("page", ""), 1) or 1
    page = Paginator(records, settings.AUDIT_PAGE_SIZE).get_page(number)
    params = request.GET.copy()
    params.pop("page", None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {
        "form": form,
        "page": page,
        "query_string": params.urlencode(),
        "may_export": roles.may_export_audit(request.user),
    }
    return render(request, "lookup/audit.html", context, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(records: QuerySet[AuditRecord]) -> Iterator[str]:
    """Yield the CSV a line at a time, reading the database 2,000 rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in records.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])


def _cell(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    # Neutralise spreadsheet formulas in free text (reasons, usernames).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


@access.permission_required(roles.may_export_audit)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """Stream the filtered trail as CSV, so a million rows never sit in memory."""
    form, records = filtered(request)
    audit.record(request, audit.Action.EXPORT, detail=request.GET.urlencode()[:120])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(csv_rows(records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
