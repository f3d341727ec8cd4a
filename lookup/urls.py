"""URL routes."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from lookup.views import customer, pages

urlpatterns = [
    path("", pages.search, name="search"),
    path("healthz", pages.healthz, name="healthz"),
    path("customers/<str:customer_id>/", customer.customer, name="customer"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
