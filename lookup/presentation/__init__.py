"""Builders of the loyalty, cards and upgrade tabs: parsed records in, template context out."""

from __future__ import annotations

from lookup.presentation.cardlist import cards
from lookup.presentation.gaps import upgrade
from lookup.presentation.tiers import loyalty

__all__ = ["cards", "loyalty", "upgrade"]
