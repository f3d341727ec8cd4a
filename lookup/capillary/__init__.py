"""Capillary CRM client: query validation, credentials, HTTP calls, errors and typed records."""

from __future__ import annotations

from lookup.capillary.auth import BasicAuth, OAuthAuth
from lookup.capillary.client import CapillaryClient, CustomerResult
from lookup.capillary.errors import (
    AuthenticationFailed,
    BadRequest,
    CapillaryError,
    CustomerDeleted,
    CustomerMerged,
    CustomerNotFound,
    InvalidResponse,
    NotPermitted,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lookup.capillary.lookup import IDENTIFIER_NAMES, IdentifierQuery, SearchHit, SearchPage
from lookup.capillary.query import EMBEDS, SOURCES, CustomerQuery, InvalidQuery
from lookup.capillary.records import ApiWarning, Customer, parse_datetime, to_decimal

__all__ = [
    "EMBEDS",
    "IDENTIFIER_NAMES",
    "SOURCES",
    "ApiWarning",
    "AuthenticationFailed",
    "BadRequest",
    "BasicAuth",
    "CapillaryClient",
    "CapillaryError",
    "Customer",
    "CustomerDeleted",
    "CustomerMerged",
    "CustomerNotFound",
    "CustomerQuery",
    "CustomerResult",
    "IdentifierQuery",
    "InvalidQuery",
    "InvalidResponse",
    "NotPermitted",
    "OAuthAuth",
    "RateLimited",
    "SearchHit",
    "SearchPage",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "parse_datetime",
    "to_decimal",
]
