"""The viewer's own preferences: the time zone dates are shown in."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lookup.models import UserPreference


class PreferenceForm(forms.ModelForm):
    """Choose a time zone, or none to use the org's."""

    time_zone = forms.ChoiceField(label="Time zone", required=False)

    class Meta:
        model = UserPreference
        fields = ["time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].choices = [("", "The org's time zone"), *((z, z) for z in zones)]


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Show and save the viewer's time zone."""
    pref, _created = UserPreference.objects.get_or_create(user=request.user)
    form = PreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Saved. Dates now show in your chosen time zone.")
            return redirect("preferences")
        return render(request, "lookup/preferences.html", {"form": form}, status=400)
    return render(request, "lookup/preferences.html", {"form": form})
