"""A stand-in for Capillary's customer and OAuth APIs over real HTTP (stdlib only)."""

from __future__ import annotations
