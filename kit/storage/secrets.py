"""Credentials never shown: the values to mask and how a location is displayed."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlparse

#: Storage options that are settings, not credentials: they stay visible in messages.
NOT_SECRET = {
    "azure_storage_account_name", "account_name", "azure_storage_use_emulator", "use_emulator",
    "azure_allow_http", "allow_http", "azure_use_fabric_endpoint", "use_fabric_endpoint",
    "azure_storage_client_id", "azure_client_id", "client_id", "azure_tenant_id", "tenant_id",
    "timeout", "connect_timeout",
}


def uri_secrets(location: str) -> list[str]:
    parsed = urlparse(location)
    out = [parsed.password] if parsed.password else []
    if parsed.query:
        out.append(parsed.query)
    return out


def display_location(location: str) -> str:
    """``location`` with any password or query string (a SAS token) replaced by ``***``."""
    parsed = urlparse(location)
    if not parsed.scheme or len(parsed.scheme) < 2:
        return location
    netloc = parsed.netloc
    if parsed.password:
        netloc = netloc.replace(":" + parsed.password + "@", ":***@")
    return parsed._replace(netloc=netloc, query="***" if parsed.query else "").geturl()


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove every secret value from a message before it is raised or logged."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
