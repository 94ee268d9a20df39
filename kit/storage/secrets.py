"""Credentials never shown: the values to mask and how a location is displayed.

``redact`` masks the credential values it is given (as written, URL-encoded and URL-decoded)
and, whatever it is given, anything that has the shape of a credential: a SAS signature
(``sig=...``), an account key in a connection string, a client secret or token in a query
string or JSON body, an ``Authorization`` header, a bearer token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlparse

#: Storage options that are settings, not credentials: they stay visible in messages.
NOT_SECRET = {
    "azure_storage_account_name", "account_name", "azure_storage_use_emulator", "use_emulator",
    "azure_allow_http", "allow_http", "azure_use_fabric_endpoint", "use_fabric_endpoint",
    "azure_storage_client_id", "azure_client_id", "client_id", "azure_tenant_id", "tenant_id",
    "azure_storage_tenant_id", "azure_storage_authority_id", "authority_id",
    "timeout", "connect_timeout", "max_retries", "retry_timeout", "pool_idle_timeout",
    "azure_use_azure_cli", "use_azure_cli", "azure_storage_endpoint", "endpoint",
    "azure_endpoint", "azure_msi_endpoint", "msi_endpoint", "azure_object_id", "object_id",
    "azure_msi_resource_id", "msi_resource_id", "azure_skip_signature", "skip_signature",
    "azure_disable_tagging", "disable_tagging", "azure_container_name", "container_name",
    "azure_fabric_token_service_url", "azure_fabric_workload_host", "azure_fabric_session_token_unused",
}

# Credential-shaped text, masked in every message whether or not its value is known.
_PATTERNS = [
    # a SAS signature in a URL or a token (sig=..., also URL-encoded or in JSON)
    (re.compile(r"(?i)(\bsig(?:=|%3D))[^&\s\"'<>;,]+"), r"\1***"),
    # connection strings: AccountKey=...; SharedAccessSignature=...
    (re.compile(r"(?i)(\b(?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s\"']+"), r"\1***"),
    # query strings and form bodies: client_secret=..., client_assertion=..., access_token=...
    (re.compile(r"(?i)(\b\w*(?:secret|assertion|token|password|account_key|sas_key)=)[^&\s\"']+"), r"\1***"),
    # JSON bodies: "access_token": "..."
    (re.compile(r"(?i)(\"(?:access_token|refresh_token|id_token|client_secret|token|accountKey)\"\s*:\s*\")"
                r"[^\"]+"), r"\1***"),
    # headers: Authorization: Bearer x / SharedKey account:signature
    (re.compile(r"(?i)(\bauthorization\"?\s*[:=]\s*\"?)[^\s\"]+(\s+[^\s\",]+)?"), r"\1***"),
    (re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1***"),
    (re.compile(r"(?i)(\bSharedKey(?:Lite)?\s+[^:\s]+:)[^\s\"]+"), r"\1***"),
]


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


def _forms(secret: str) -> set[str]:
    """A credential as written, URL-decoded and URL-encoded; for a SAS token, its signature
    alone too (a library may print the token re-ordered or re-encoded)."""
    forms = {secret, secret.lstrip("?"), unquote(secret), quote(secret, safe=""), quote(secret, safe="=&")}
    if "=" in secret and "&" in secret or secret.lstrip("?").startswith("sv=") or "sig=" in secret:
        for key, value in parse_qsl(secret.lstrip("?"), keep_blank_values=True):
            if key.lower() == "sig" and value:
                forms |= {value, quote(value, safe=""), quote(value, safe="=")}
    return {f for f in forms if f and len(f) >= 4}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove every secret value, and anything shaped like a credential, from a message before
    it is raised, logged or printed."""
    text = str(text)
    forms: set[str] = set()
    for secret in secrets:
        if isinstance(secret, str) and secret:
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):  # longest first: a token before its signature
        text = text.replace(form, "***")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
