"""What went wrong with the storage, in one line, and what to do about it.

``describe`` reads the text of an object-store error (already redacted) and returns the problem,
the advice that fits its cause, and whether the endpoint itself is unreachable (a timeout or a
refused connection: then further requests are pointless).
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_CREDENTIAL_HELP = (
    "Check the credential in storage_options or the AZURE_* variables (account key, SAS token, "
    "service principal, Azure CLI login or managed identity)"
)


def _status(text: str) -> int | None:
    m = re.search(r"\b([45]\d\d) (?:Forbidden|Not Found|Unauthorized|Bad Request|Conflict|"
                  r"Service Unavailable|Internal Server Error|Too Many Requests|Gateway Timeout|Bad Gateway)", text) \
        or re.search(r"status(?: code)?:? ?([45]\d\d)\b", text, re.I)
    return int(m.group(1)) if m else None


def _code(text: str) -> str | None:
    m = re.search(r"<Code>(\w+)</Code>", text) or re.search(r'"code"\s*:\s*"(\w+)"', text) \
        or re.search(r"\bErrorCode:?\s*(\w+)", text)
    return m.group(1) if m else None


def describe(text: str, options: dict | None = None) -> tuple[str, str, bool]:
    """(problem, advice, unreachable) for an object-store error message."""
    text = _ANSI.sub("", text)
    options = options or {}
    code, status = _code(text), _status(text)
    lowered = text.lower()
    if "timed out" in lowered or "timeout" in lowered and "error sending request" in lowered:
        timeout = options.get("timeout", "?")
        return (
            f"the storage endpoint accepted the connection but did not answer within {timeout}",
            "Check that the storage service (or the emulator) is running and responsive, and the "
            "network (proxy, firewall); raise the limit with storage_options={'timeout': '60s'} "
            "or KIT_STORAGE_TIMEOUT if the storage is merely slow.",
            True,
        )
    if re.search(r"connection refused|tcp connect error|error trying to connect|connection reset|"
                 r"broken pipe|connection closed|unexpected eof|incompletemessage", lowered):
        return (
            "the storage endpoint refused or dropped the connection (the service or the emulator "
            "is down or went away)",
            "Check that the storage (or Azurite) is running and reachable, then run again.",
            True,
        )
    if re.search(r"dns error|failed to lookup address|name or service not known|no such host", lowered):
        return (
            "the storage host name does not resolve",
            "Check the account name in the URI or storage_options, and the network (DNS, proxy, "
            "private endpoint).",
            True,
        )
    if code in ("AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch",
                "AuthorizationServiceMismatch", "InsufficientAccountPermissions") or (
            status == 403 and "necessary privileges" in lowered and code is None):
        return (
            f"access denied (403 {code or 'Forbidden'}): the credential is valid but lacks a permission",
            "Grant read and list: a SAS needs sp=rl (and srt=sco for an account SAS); a service "
            "principal or managed identity needs the Storage Blob Data Reader role.",
            False,
        )
    if code in ("AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo",
                "NoAuthenticationInformation") or status in (401, 403):
        return (
            f"access denied ({status or 403} {code or 'Forbidden'}): the storage refused the credential",
            f"{_CREDENTIAL_HELP}: a wrong or rotated account key, or a SAS token that is expired, "
            "not yet valid, or signed for another account.",
            False,
        )
    if code == "ContainerNotFound" or "containernotfound" in lowered:
        return (
            "the container (or OneLake workspace) does not exist",
            "Check the container name in the URI (abfss://<container>@<account>.dfs.core.windows.net/...).",
            False,
        )
    if code == "ResourceNotFound" or status == 404:
        return ("not found (404)", "Check the path in the URI.", False)
    if "credential" in lowered or "token" in lowered and ("fetch" in lowered or "acquire" in lowered):
        return (
            "no credential could be obtained",
            f"{_CREDENTIAL_HELP}; for Azure CLI run 'az login', for a managed identity run on a "
            "machine that has one.",
            False,
        )
    if status and status >= 500:
        return (f"the storage service failed ({status}{' ' + code if code else ''})",
                "Run again later; if it persists, check the storage account's health.", False)
    first = " ".join(text.split())[:200]
    return (first or "unknown storage error", "Check the URI, the credentials and the network.", False)
