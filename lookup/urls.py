"""URL routes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from lookup.throttle import ThrottledAuthenticationForm
from lookup.views import activity, customer, health, images, preferences, search

urlpatterns = [
    path("", search.search, name="search"),
    path("find/", search.find, name="find"),
    path("find/names/", search.find_names, name="find-names"),
    path("recent/<int:pk>/pin/", search.pin, name="pin"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("customers/<str:customer_id>/", customer.customer, name="customer"),
    path(
        "customers/<str:customer_id>/tabs/<slug:slug>/", customer.customer_tab, name="customer-tab"
    ),
    path(
        "customers/<str:customer_id>/activity/bills/",
        activity.bill_by_number,
        name="activity-bill-number",
    ),
    path(
        "customers/<str:customer_id>/activity/bills/<int:transaction_id>/",
        activity.bill,
        name="activity-bill",
    ),
    path(
        "customers/<str:customer_id>/activity/<slug:name>/",
        activity.panel,
        name="activity-panel",
    ),
    path(
        "customers/<str:customer_id>/images/<slug:kind>/<whole:index>/",
        images.customer_image,
        name="customer-image",
    ),
    path("preferences/", preferences.preferences, name="preferences"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # One way in: the admin's own sign-in form would skip the throttle and the audit.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin-login",
    ),
    path("admin/", admin.site.urls),
]

# Roles, privacy and the audit trail.
from lookup.views import audit as audit_views  # noqa: E402
from lookup.views import reveal  # noqa: E402

urlpatterns += [
    path("customers/<str:customer_id>/reveal/", reveal.reveal, name="reveal"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit-export"),
]

# Capillary breaker status for staff, and the benchmark's reference view.
from lookup.views import ops  # noqa: E402

urlpatterns += ops.urlpatterns

# The benchmark's floor (one upstream call, nothing else): routed only for `python -m bench`.
if settings.LOOKUP_BENCH:
    from lookup.views import bench

    urlpatterns += bench.urlpatterns
