"""Keep credentials out of error reports, even with DEBUG on."""

from __future__ import annotations

from collections.abc import Mapping

from django.views.debug import SafeExceptionReporterFilter

# Frames in these modules handle decrypted secrets or auth headers.
SENSITIVE_MODULES = (
    "lookup.capillary",
    "lookup.services",
    "lookup.crypto",
    "lookup.models",
    "requests",
    "urllib3",
    "http.client",
)
AUTH_HEADERS = {"authorization", "x-cap-api-oauth-token", "cap-api-access-token"}


def _carries_auth(value: object) -> bool:
    try:
        return isinstance(value, Mapping) and any(str(key).lower() in AUTH_HEADERS for key in value)
    except Exception:  # noqa: BLE001 - an odd mapping is cleansed, not inspected
        return True


class CredentialSafeFilter(SafeExceptionReporterFilter):
    """Hide the locals of frames that handle credentials, and any auth header mapping."""

    def get_traceback_frame_variables(self, request, tb_frame):
        module = tb_frame.f_globals.get("__name__", "")
        if module.startswith(SENSITIVE_MODULES):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return [
            (name, self.cleansed_substitute if _carries_auth(value) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
