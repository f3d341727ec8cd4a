"""Forms: the customer search."""

from __future__ import annotations

from django import forms

from lookup.capillary import SOURCES, CustomerQuery, InvalidQuery
from lookup.models import Org

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
