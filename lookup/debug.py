"""Keep credentials out of error reports, even with DEBUG on."""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter

# Frames in these modules handle decrypted secrets or auth headers.
SENSITIVE_MODULES = ("lookup.capillary", "lookup.services", "lookup.crypto", "lookup.models")


class CredentialSafeFilter(SafeExceptionReporterFilter):
    """Hide every local variable of frames that handle credentials."""

    def get_traceback_frame_variables(self, request, tb_frame):
        module = tb_frame.f_globals.get("__name__", "")
        if module.startswith(SENSITIVE_MODULES):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
