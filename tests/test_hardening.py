"""Headers, CSP-clean templates, error pages, deploy checks, structured logs and leak scans."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest

from lookup import roles
from lookup.models import AuditRecord
from tests.conftest import CUSTOMER, TAB_SLUGS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
PAGE = f"/customers/{CUSTOMER}/?source=INSTORE"
TAB_URLS = [f"/customers/{CUSTOMER}/tabs/{slug}/?source=INSTORE" for slug in TAB_SLUGS]
CREDENTIALS = (
    "demo-password",
    hashlib.md5(b"demo-password").hexdigest(),
    base64.b64encode(f"demo.till:{hashlib.md5(b'demo-password').hexdigest()}".encode()).decode(),
    "demo-secret",
)
PERSONAL = ("1234512345", "12341234", "mtest00000000067003")


def test_security_headers(as_role, sandbox):
    response = as_role(roles.STORE_MANAGER).get(PAGE)
    assert response.status_code == HTTPStatus.OK
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_client_request_id_is_ignored(client, agent):
    client.force_login(agent)
    response = client.get(f"/customers/{CUSTOMER}/?org=nope", HTTP_X_REQUEST_ID="forged-id-0001")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert AuditRecord.objects.get().request_id == response["X-Request-ID"]


def test_trusted_proxy_request_id_kept_only_when_plain(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123-def")["X-Request-ID"] == "abc-123-def"
    for hostile in ("<script>\n", "short", "x" * 65, "abc-123-def\n"):
        kept = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", kept), hostile


def test_cookies(client, agent):
    response = client.post("/login/", {"username": "agent", "password": "agent-pass-123"})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    csrf = client.get("/login/").cookies.get("csrftoken")
    if csrf is not None:
        assert csrf["httponly"] and csrf["samesite"] == "Lax"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_nothing_the_csp_blocks():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []


def test_body_sends_csrf_for_htmx(as_role, sandbox):
    html = as_role(roles.STORE_MANAGER).get("/").content.decode()
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", html)
    assert 'name="htmx-config"' in html and '"allowEval": false' in html


def test_error_pages_in_dashboard_look(client, agent, monkeypatch):
    client.force_login(agent)
    missing = client.get("/no/such/page/")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert "Customer Lookup" in missing.content.decode() and "Not found" in missing.content.decode()

    def boom(*args, **kwargs):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr("lookup.views.search.access.orgs_for", boom)
    client.raise_request_exception = False
    broken = client.get("/")
    assert broken.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    html = broken.content.decode()
    assert "Something went wrong" in html and "Customer Lookup" in html
    assert "secret-internal-detail" not in html and "Traceback" not in html
    assert "SECRET_KEY" not in html


def test_csrf_failure_page(client, agent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    response = strict.post("/logout/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Customer Lookup" in response.content.decode()


def test_check_deploy_clean_in_production(tmp_path):
    env = {
        **os.environ,
        "LOOKUP_ENV": "production",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-enough-entropy-" + "y" * 20,
        "ALLOWED_HOSTS": "lookup.example.com",
        "LOOKUP_FERNET_KEYS": base64.urlsafe_b64encode(b"k" * 32).decode(),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "LOOKUP_DATA_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class _Lines(logging.Handler):
    """Collect log lines as production would write them: JSON, with the request context."""

    def __init__(self) -> None:
        from lookup.logs import JsonFormatter
        from lookup.middleware import RequestContextFilter

        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = _Lines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_json_logs_carry_request_and_customer(as_role, sandbox, log_lines):
    # A projection cannot share the header's call: the second call runs on a worker thread.
    response = as_role(roles.STORE_MANAGER).get(PAGE, {"tab": "upgrade", "days": "30"})
    assert response.status_code == 200
    entries = [json.loads(line) for line in log_lines]
    mine = [e for e in entries if e.get("request_id") == response["X-Request-ID"]]
    assert any(e["logger"] == "lookup.audit" for e in mine)
    assert all(e["customer_id"] == str(CUSTOMER) for e in mine if e["logger"] == "lookup.audit")
    # Both calls' lines keep the request's context, the worker thread's included.
    upstream = [e for e in entries if e["logger"] == "lookup.capillary"]
    assert len(upstream) == 2
    assert all(e["request_id"] == response["X-Request-ID"] for e in upstream)


def _scan(blobs, needles):
    return sorted({needle for needle in needles for blob in blobs if needle in blob})


def _cache_blobs() -> list[str]:
    from django.core.cache import cache

    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # local memory: pickled values
        return [repr(value) for value in store.values()]
    client = cache._cache.get_client()  # Redis
    return [repr(client.get(key)) for key in client.scan_iter("*")]


@pytest.mark.parametrize("role", [roles.STORE_MANAGER, roles.CALL_CENTRE_AGENT, roles.LOYALTY_OPS])
def test_leak_scan(as_role, sandbox, log_lines, caplog, role):
    client = as_role(role)
    pages = [client.get(PAGE).content.decode()]
    for url in TAB_URLS:
        pages.append(client.get(url).content.decode())
        pages.append(client.get(url, HTTP_HX_REQUEST="true").content.decode())
    pages.append(client.get("/customers/100000007/?source=INSTORE").content.decode())
    audit_rows = [json.dumps(list(AuditRecord.objects.values()), default=str)]
    exports = []
    if roles.may_export_audit(client.get("/").wsgi_request.user):
        exports.append(b"".join(client.get("/audit/export.csv").streaming_content).decode())
        pages.append(client.get("/audit/").content.decode())
    logs = [*log_lines, caplog.text]
    everything = [*pages, *audit_rows, *exports, *logs]
    assert _scan(everything, CREDENTIALS) == []
    assert _scan(_cache_blobs(), CREDENTIALS) == []
    if role != roles.LOYALTY_OPS:
        assert _scan(pages, PERSONAL) == []
    assert _scan(logs, PERSONAL) == []
    assert _scan(audit_rows + exports, PERSONAL) == []


def test_cache_holds_no_clear_personal_data(as_role, sandbox):
    as_role(roles.STORE_MANAGER).get(PAGE)
    blobs = _cache_blobs()
    assert any("body" in blob for blob in blobs)  # the customer really is cached
    assert _scan(blobs, PERSONAL) == []


@pytest.mark.parametrize("role", [roles.LOYALTY_OPS, roles.STORE_MANAGER])
def test_hostile_customer_is_escaped_everywhere(as_role, sandbox, role):
    client = as_role(role)
    for url in [
        "/customers/100000007/?source=INSTORE",
        *(u.replace(str(CUSTOMER), "100000007") for u in TAB_URLS),
    ]:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            # A store manager may not open the raw response (see test_access): a refusal.
            refused = "/tabs/raw/" in url and role == roles.STORE_MANAGER
            assert response.status_code == (HTTPStatus.FORBIDDEN if refused else HTTPStatus.OK), url
            html = response.content.decode()
            assert "<script>window.__xss" not in html, url
            assert "<img src=x onerror" not in html, url
            assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=window\.__xss", html), url


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_view_answers_signed_in_viewers_no_store(staff_client, sandbox, every_view, settings):
    """Walk every route: whatever a signed-in viewer is sent stays out of every cache."""
    settings.LOOKUP_RATE_LIMIT = 0
    staff_client.raise_request_exception = False
    served = {}
    for name, path in every_view:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = staff_client.get(path, **headers)
            if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
                response = staff_client.post(path, {"ref": "x"}, **headers)
            assert _no_store(response), (name, path, headers, response.get("Cache-Control"))
            served[name] = response.status_code
            staff_client.force_login(staff_client.signed_in_as)  # after the sign-out view
    for name in ("search", "customer", "customer-tab", "customer-image", "audit", "audit-export"):
        assert served[name] == HTTPStatus.OK, name  # the data really was there
    # A made-up reference: test_privacy reveals with a real one and checks the same header.
    assert served["reveal"] == HTTPStatus.BAD_REQUEST


def test_search_results_and_redirects_are_no_store(staff_client):
    response = staff_client.get("/", {"customer_id": "566881933", "source": "INSTORE"})
    assert response.status_code == HTTPStatus.FOUND and _no_store(response)


def test_admin_audit_pages_are_no_store(client, org, django_user_model):
    from django.utils import timezone

    record = AuditRecord.objects.create(at=timezone.now(), username="x", action="lookup")
    client.force_login(django_user_model.objects.create_superuser("root"))
    for path in ("/admin/lookup/auditrecord/", f"/admin/lookup/auditrecord/{record.pk}/change/"):
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK and _no_store(response), path


def test_htmx_keeps_no_pages_in_local_storage(as_role, sandbox):
    html = as_role(roles.STORE_MANAGER).get(PAGE).content.decode()
    assert '"historyCacheSize": 0' in html
