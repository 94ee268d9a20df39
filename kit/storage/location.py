"""Where a lake is, and with which credentials: local folders and Azure URIs.

Locations are local paths or Azure URIs (``abfss://``, ``az://``; OneLake too). Remote locations
go through pyarrow's filesystem for listing and through deltalake's object store for reading,
with the caller's ``storage_options``; credentials (keys, SAS tokens, secrets, a password or
query string in the URI) never appear in a repr or an error message. Before the first listing
the storage endpoint is probed with one TCP connection (5 s at most): pyarrow's Azure client
would otherwise retry for several seconds per call when the network or the account is wrong.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from urllib.parse import urlparse

from ..errors import KitError
from .secrets import display_location, redact, uri_secrets, NOT_SECRET

_ENV_OPTIONS = {
    "AZURE_STORAGE_ACCOUNT_NAME": "azure_storage_account_name",
    "AZURE_STORAGE_ACCOUNT_KEY": "azure_storage_account_key",
    "AZURE_STORAGE_SAS_TOKEN": "azure_storage_sas_token",
    "AZURE_CLIENT_ID": "azure_client_id",
    "AZURE_CLIENT_SECRET": "azure_client_secret",
    "AZURE_TENANT_ID": "azure_tenant_id",
}


def storage_options_from_env() -> dict[str, str] | None:
    """Storage options from the ``AZURE_*`` environment variables (None when none is set), so
    credentials stay out of notebooks, command lines and code."""
    opts = {v: os.environ[k] for k, v in _ENV_OPTIONS.items() if os.environ.get(k)}
    return opts or None


class Storage:
    """Lists folders and reads small files (logs) under a location, local or remote."""

    def __init__(self, location: str, storage_options: dict[str, str] | None = None):
        self.location = str(location)
        self._options = dict(storage_options or {})
        parsed = urlparse(self.location)
        self.remote = bool(parsed.scheme) and len(parsed.scheme) > 1 and parsed.scheme != "file"
        if parsed.scheme == "file":
            self.location = parsed.path
        if self.remote and parsed.query:
            # A SAS token pasted into the URI: table paths are built by appending to the
            # location, so the token moves into the options (and out of every path and repr).
            if not any(k.lower() in ("azure_storage_sas_token", "sas_token") for k in self._options):
                self._options["azure_storage_sas_token"] = parsed.query
            self.location = parsed._replace(query="").geturl()
        self._fs = None

    def __repr__(self) -> str:
        return f"Storage({self.display!r}, remote={self.remote})"

    @property
    def display(self) -> str:
        """The location as shown in reprs and messages: a password or query string (a SAS
        token) in the URI is masked."""
        return display_location(self.location)

    @property
    def storage_options(self) -> dict[str, str]:
        return dict(self._options)

    def secrets(self) -> list[str]:
        """Option values to mask in messages. Settings that are not credentials (account name,
        emulator and HTTP flags) stay visible: masking 'true' or the account name would garble
        messages without protecting anything."""
        return [
            v for k, v in self._options.items()
            if isinstance(v, str) and k.lower() not in NOT_SECRET
        ] + uri_secrets(self.location)

    # -- paths -------------------------------------------------------------------------------
    def join(self, *parts: str) -> str:
        base = self.location.rstrip("/")
        rest = "/".join(p.strip("/") for p in parts if p)
        return f"{base}/{rest}" if rest else base

    # -- remote filesystem -------------------------------------------------------------------
    def _remote_fs(self):
        if self._fs is None:
            self._fs = _azure_filesystem(self.location, self._options)
        return self._fs

    def _remote_path(self, uri: str) -> str:
        parsed = urlparse(uri)
        container = parsed.username or parsed.netloc.split("@")[0]
        return f"{container}{parsed.path}".rstrip("/")

    # -- operations --------------------------------------------------------------------------
    def list_dirs(self, uri: str) -> list[str]:
        """Names of the immediate subfolders of ``uri`` (sorted); [] when it does not exist."""
        if not self.remote:
            try:
                with os.scandir(uri) as entries:
                    return sorted(e.name for e in entries if e.is_dir())
            except (FileNotFoundError, NotADirectoryError):
                return []
        import pyarrow.fs as pafs

        try:
            infos = self._remote_fs().get_file_info(pafs.FileSelector(self._remote_path(uri)))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KitError(
                f"Cannot list {self.display!r}: {redact(str(exc), self.secrets())}. "
                "Check the URI and the storage_options (account, key, SAS or credential)."
            ) from None
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def is_dir(self, uri: str) -> bool:
        if not self.remote:
            return os.path.isdir(uri)
        import pyarrow.fs as pafs

        try:
            info = self._remote_fs().get_file_info(self._remote_path(uri))
        except OSError:
            return False
        return info.type == pafs.FileType.Directory

    def list_files(self, uri: str) -> list[tuple[str, int, float]]:
        """(name, size in bytes, modification time in epoch seconds) of the files in ``uri``."""
        if not self.remote:
            out = []
            try:
                with os.scandir(uri) as entries:
                    for e in entries:
                        if e.is_file():
                            st = e.stat()
                            out.append((e.name, st.st_size, st.st_mtime))
            except FileNotFoundError:
                return []
            return sorted(out)
        import pyarrow.fs as pafs

        try:
            infos = self._remote_fs().get_file_info(pafs.FileSelector(self._remote_path(uri)))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._remote_error("list", uri, exc) from None
        return sorted(
            (i.base_name, i.size or 0, i.mtime.timestamp() if i.mtime else 0.0)
            for i in infos
            if i.type == pafs.FileType.File
        )

    def read_bytes(self, uri: str) -> bytes:
        if not self.remote:
            with open(uri, "rb") as fh:
                return fh.read()
        try:
            with self._remote_fs().open_input_stream(self._remote_path(uri)) as fh:
                return fh.read()
        except OSError as exc:
            raise self._remote_error("read", uri, exc) from None

    def _remote_error(self, verb: str, uri: str, exc: OSError) -> KitError:
        """A storage failure (authentication, network) as a KitError, credentials masked."""
        return KitError(
            f"Cannot {verb} {display_location(uri)!r}: {redact(str(exc), self.secrets())}. "
            "Check the credentials (storage_options or AZURE_* variables) and the network."
        )

    def exists(self, uri: str) -> bool:
        if not self.remote:
            return os.path.exists(uri)
        import pyarrow.fs as pafs

        try:
            return self._remote_fs().get_file_info(self._remote_path(uri)).type != pafs.FileType.NotFound
        except OSError:
            return False


_PROBE_TIMEOUT_S = 5.0


def _probe(host: str, port: int, timeout: float | None = None) -> str | None:
    """None when a TCP connection to host:port opens within ``timeout``; else the reason."""
    import socket
    import threading

    timeout = _PROBE_TIMEOUT_S if timeout is None else timeout

    outcome: dict[str, BaseException] = {}

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            outcome["error"] = exc

    # Name resolution has no timeout of its own: run the attempt in a thread and stop waiting.
    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout + 1.0)
    if worker.is_alive():
        return f"no answer within {timeout:.0f} s"
    error = outcome.get("error")
    if error is None:
        return None
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    return str(error) or type(error).__name__


def _check_reachable(location: str, host: str, port: int) -> None:
    """Fail fast, with a clear message, when the storage endpoint cannot be reached: pyarrow's
    Azure client retries for several seconds per call before giving up, and the kit makes
    several calls while discovering tables."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return  # the connection goes through a proxy: a direct probe would prove nothing
    reason = _probe(host, port)
    if reason:
        raise KitError(
            f"Cannot reach the storage endpoint {host}:{port} for {display_location(location)!r}: "
            f"{reason}. Check the network (proxy, firewall, private endpoint) and the storage "
            "account name in the URI or storage_options."
        )


def _azure_filesystem(location: str, options: dict[str, str]):
    """A pyarrow AzureFileSystem from deltalake-style storage options (listing only)."""
    import pyarrow.fs as pafs

    parsed = urlparse(location)
    if parsed.scheme not in ("abfss", "abfs", "az", "adl", "azure"):
        raise KitError(
            f"{parsed.scheme}:// locations are not supported: the kit reads local folders, Azure "
            "storage (abfss://, az://) and OneLake. Copy or mount the lake locally."
        )
    opts = {k.lower(): v for k, v in options.items()}
    host = parsed.hostname or ""
    account = (
        opts.get("azure_storage_account_name")
        or opts.get("account_name")
        or (host.split(".")[0] if "." in host else None)
    )
    if not account:
        raise KitError(
            "Cannot tell the storage account of this location: pass "
            "storage_options={'azure_storage_account_name': ...} or a URI of the form "
            "abfss://<container>@<account>.dfs.core.windows.net/<path>."
        )
    kwargs: dict[str, str] = {}
    key = opts.get("azure_storage_account_key") or opts.get("account_key")
    if key:
        # pyarrow aborts the whole process (not an exception) on a key that is not base64.
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise KitError(
                "The storage account key in storage_options is not valid base64: copy it again "
                "from the storage account's Access keys page."
            ) from None
        kwargs["account_key"] = key
    sas = opts.get("azure_storage_sas_token") or opts.get("sas_token")
    if sas:
        kwargs["sas_token"] = sas
    for src, dst in (
        ("azure_client_id", "client_id"),
        ("azure_client_secret", "client_secret"),
        ("azure_tenant_id", "tenant_id"),
    ):
        if opts.get(src):
            kwargs[dst] = opts[src]
    if str(opts.get("azure_storage_use_emulator", "")).lower() == "true":
        emulator = os.environ.get("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:10000")
        emu = urlparse(emulator)
        kwargs["blob_storage_authority"] = emu.netloc
        kwargs["blob_storage_scheme"] = emu.scheme or "http"
        kwargs["dfs_storage_authority"] = emu.netloc
        kwargs["dfs_storage_scheme"] = emu.scheme or "http"
    elif host.endswith(("onelake.dfs.fabric.microsoft.com", "onelake.blob.fabric.microsoft.com")):
        kwargs["blob_storage_authority"] = "onelake.blob.fabric.microsoft.com"
        kwargs["dfs_storage_authority"] = "onelake.dfs.fabric.microsoft.com"
    authority = kwargs.get("blob_storage_authority") or f"{account}.blob.core.windows.net"
    probe = urlparse(f"//{authority}")
    default_port = 80 if kwargs.get("blob_storage_scheme") == "http" else 443
    _check_reachable(location, probe.hostname or authority, probe.port or default_port)
    secrets = [v for k, v in options.items() if isinstance(v, str) and k.lower() not in NOT_SECRET]
    try:
        return pafs.AzureFileSystem(account, **kwargs)
    except Exception as exc:  # pyarrow raises several types here
        raise KitError(
            f"Cannot connect to storage account {account!r}: {redact(str(exc), secrets)}"
        ) from None
