"""Forms: the search box, the lookup by ID, and a whole-number field bounded before int()."""

from __future__ import annotations

from typing import Any

from django import forms

from lookup.capillary import SOURCES, CustomerQuery, InvalidQuery
from lookup.inputs import MAX_DIGITS, whole_number
from lookup.models import Org
from lookup.search.classify import KINDS


class WholeNumberField(forms.IntegerField):
    """An IntegerField that takes only ASCII digits, at most 19, with a message that says so."""

    default_error_messages = {
        "invalid": f"Enter a whole number: the digits 0 to 9 only, at most {MAX_DIGITS} of them."
    }

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = whole_number(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


FIELD_FOR = {"customer_id": "customer_id", "source": "source", "account_id": "account_id"}


class LookupForm(forms.Form):
    customer_id = forms.CharField(
        label="Customer ID",
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )
    source = forms.ChoiceField(choices=[(s, s) for s in SOURCES], initial="INSTORE")
    org = forms.ChoiceField(label="Org", required=False)
    account_id = forms.CharField(label="Account ID", max_length=64, required=False)

    def __init__(self, *args, orgs: list[Org], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.orgs = {org.slug: org for org in orgs}
        self.fields["org"].choices = [(org.slug, org.name) for org in orgs]
        if len(orgs) <= 1:
            self.fields["org"].widget = forms.HiddenInput()
        self.query: CustomerQuery | None = None

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        org = self.orgs.get(data.get("org") or "") or next(iter(self.orgs.values()), None)
        if org is None:
            raise forms.ValidationError("You have no org to look up customers in; ask an admin.")
        data["org"] = org
        try:
            self.query = CustomerQuery.parse(
                data["customer_id"], source=data["source"], account_id=data.get("account_id", "")
            )
        except InvalidQuery as exc:
            self.add_error(FIELD_FOR.get(exc.field), exc.message)
        return data


class FindForm(forms.Form):
    """The search box: what the caller has, and optionally how to read it and where."""

    q = forms.CharField(
        label="Find a customer",
        max_length=200,
        strip=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
                "placeholder": "Mobile, email, card, external ID or customer ID",
                "data-search-box": "",
            }
        ),
    )
    search_as = forms.ChoiceField(
        label="Search as", choices=list(KINDS.items()), initial="auto", required=False
    )
    source = forms.ChoiceField(choices=[(s, s) for s in SOURCES], required=False)
    account_id = forms.CharField(label="Account ID", max_length=64, required=False)
    org = forms.ChoiceField(label="Org", required=False)

    def __init__(self, *args, orgs: list[Org], org: Org | None = None, **kwargs) -> None:
        kwargs.setdefault("auto_id", "find_%s")  # beside the lookup by ID on one page
        super().__init__(*args, **kwargs)
        self.orgs = {o.slug: o for o in orgs}
        self.fields["org"].choices = [(o.slug, o.name) for o in orgs]
        if len(orgs) <= 1:
            self.fields["org"].widget = forms.HiddenInput()
        if org is not None and not self.is_bound:
            # The org's default source and account ID prefill the search.
            self.initial.update(
                org=org.slug, source=org.default_source, account_id=org.default_account_id
            )

    def clean(self) -> dict:
        data = super().clean()
        org = self.orgs.get(data.get("org") or "")
        if data.get("org") and org is None:
            self.add_error("org", "Choose one of your orgs.")
        data["org"] = org
        return data
