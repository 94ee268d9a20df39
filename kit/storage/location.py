"""Where a lake is, and with which credentials: local folders and Azure URIs.

Locations are local paths or Azure URIs (``abfss://``, ``az://``; OneLake too). Remote locations
are listed and read through deltalake's object store, with the caller's ``storage_options``
(or the ``AZURE_*`` variables): account key, SAS token (with or without its ``?``), service
principal, bearer token, Azure CLI, managed identity, or the Azurite emulator. Every request has
a connect and a request timeout (``resolve_options``). Credentials (keys, SAS signatures,
secrets, tokens, a password or query string in the URI) never appear in a repr or a message.
Before the first listing the storage endpoint is probed with one TCP connection (5 s at most),
so a wrong host or a closed network fails at once with a clear message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from urllib.parse import urlparse

from ..errors import KitError
from .secrets import display_location, redact, uri_secrets, NOT_SECRET

_ENV_OPTIONS = {
    "AZURE_STORAGE_ACCOUNT_NAME": "azure_storage_account_name",
    "AZURE_STORAGE_ACCOUNT_KEY": "azure_storage_account_key",
    "AZURE_STORAGE_SAS_TOKEN": "azure_storage_sas_token",
    "AZURE_STORAGE_TOKEN": "azure_storage_token",
    "AZURE_CLIENT_ID": "azure_client_id",
    "AZURE_CLIENT_SECRET": "azure_client_secret",
    "AZURE_TENANT_ID": "azure_tenant_id",
    "AZURE_FEDERATED_TOKEN_FILE": "azure_federated_token_file",
    "AZURE_USE_AZURE_CLI": "azure_use_azure_cli",
    "AZURE_STORAGE_USE_EMULATOR": "azure_storage_use_emulator",
}

_SAS_KEYS = ("azure_storage_sas_token", "sas_token", "azure_storage_sas_key", "sas_key")
_KEY_KEYS = ("azure_storage_account_key", "account_key", "azure_storage_access_key", "access_key",
             "azure_storage_master_key", "master_key")
_ACCOUNT_KEYS = ("azure_storage_account_name", "account_name")
_EMULATOR_KEYS = ("azure_storage_use_emulator", "use_emulator", "azure_use_emulator")
_AZURE_SCHEMES = ("abfss", "abfs", "az", "adl", "azure")

#: Default timeouts of every remote request (seconds): connecting, and the whole request. With
#: one retry, a storage endpoint that accepts connections but never answers fails within about
#: 2 x DEFAULT_TIMEOUT_S. Set them with storage_options ``timeout`` / ``connect_timeout`` (e.g.
#: "30s") or the KIT_STORAGE_TIMEOUT / KIT_STORAGE_CONNECT_TIMEOUT variables (seconds).
DEFAULT_TIMEOUT_S = 20
DEFAULT_CONNECT_TIMEOUT_S = 10
DEFAULT_MAX_RETRIES = 1
#: Parallel requests when the kit reads many small files (log files) or lists many folders.
PARALLEL_REQUESTS = 16


def storage_options_from_env() -> dict[str, str] | None:
    """Storage options from the ``AZURE_*`` environment variables (None when none is set), so
    credentials stay out of notebooks, command lines and code. ``AZURE_STORAGE_USE_EMULATOR=true``
    points the kit at Azurite (at ``AZURITE_BLOB_STORAGE_URL``, default http://127.0.0.1:10000)."""
    opts = {v: os.environ[k] for k, v in _ENV_OPTIONS.items() if os.environ.get(k)}
    return opts or None


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _seconds(value: str) -> float | None:
    """Seconds of a duration written "20", "20s", "1500ms" or "2m"; None when unreadable."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*", str(value))
    if not m:
        return None
    n = float(m.group(1))
    return {"ms": n / 1000, "m": n * 60, "min": n * 60}.get(m.group(2) or "s", n)


def resolve_options(location: str, options: dict[str, str] | None) -> dict[str, str]:
    """The object-store options the kit passes to deltalake for a remote location.

    - keys are lower-cased; a SAS token is accepted with or without its leading ``?`` (the SDK
      and the portal give it without);
    - the emulator flag also comes from ``AZURE_STORAGE_USE_EMULATOR``;
    - every request gets a connect timeout and a request timeout, and at most one retry, so a
      storage endpoint that hangs fails in bounded time (see ``DEFAULT_TIMEOUT_S``).
    """
    opts = {str(k).lower(): v for k, v in (options or {}).items() if v is not None}
    for key in _SAS_KEYS:
        if isinstance(opts.get(key), str):
            opts[key] = opts[key].strip().lstrip("?")
    if not any(k in opts for k in _EMULATOR_KEYS) and _truthy(os.environ.get("AZURE_STORAGE_USE_EMULATOR", "")):
        opts["azure_storage_use_emulator"] = "true"
    timeout = os.environ.get("KIT_STORAGE_TIMEOUT")
    connect = os.environ.get("KIT_STORAGE_CONNECT_TIMEOUT")
    opts.setdefault("timeout", f"{_seconds(timeout) or DEFAULT_TIMEOUT_S:g}s" if timeout else f"{DEFAULT_TIMEOUT_S}s")
    opts.setdefault("connect_timeout", f"{_seconds(connect) or DEFAULT_CONNECT_TIMEOUT_S:g}s" if connect else f"{DEFAULT_CONNECT_TIMEOUT_S}s")
    opts.setdefault("max_retries", str(DEFAULT_MAX_RETRIES))
    opts.setdefault("retry_timeout", opts["timeout"])
    return opts


class Storage:
    """Lists folders and reads small files (logs) under a location, local or remote.

    Remote locations are listed and read through deltalake's object store (the same client,
    options, credentials and timeouts as the table reads). Once a request to the storage has
    timed out or been refused, the storage is marked unreachable and every later remote call
    fails at once with the same error, so an analysis over many tables never waits once per
    table."""

    def __init__(self, location: str, storage_options: dict[str, str] | None = None):
        self.location = str(location)
        options = dict(storage_options or {})
        parsed = urlparse(self.location)
        self.remote = bool(parsed.scheme) and len(parsed.scheme) > 1 and parsed.scheme != "file"
        if parsed.scheme == "file":
            self.location = parsed.path
        if self.remote and parsed.query:
            # A SAS token pasted into the URI: table paths are built by appending to the
            # location, so the token moves into the options (and out of every path and repr).
            if not any(k.lower() in _SAS_KEYS for k in options):
                options["azure_storage_sas_token"] = parsed.query
            self.location = parsed._replace(query="").geturl()
        self._given = options
        self._options = resolve_options(self.location, options) if self.remote else options
        self._fs = None
        self._down: str | None = None  # why the storage stopped answering, once it has
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Storage({self.display!r}, remote={self.remote})"

    @property
    def display(self) -> str:
        """The location as shown in reprs and messages: a password or query string (a SAS
        token) in the URI is masked."""
        return display_location(self.location)

    @property
    def storage_options(self) -> dict[str, str]:
        """The options handed to deltalake (for a remote location: with timeouts, the SAS
        token normalised)."""
        return dict(self._options)

    def secrets(self) -> list[str]:
        """Option values to mask in messages. Settings that are not credentials (account name,
        emulator and HTTP flags, timeouts) stay visible: masking 'true' or the account name
        would garble messages without protecting anything."""
        values = {**self._given, **self._options}
        return [
            v for k, v in values.items()
            if isinstance(v, str) and k.lower() not in NOT_SECRET
        ] + uri_secrets(self.location)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets())

    # -- paths -------------------------------------------------------------------------------
    def join(self, *parts: str) -> str:
        base = self.location.rstrip("/")
        rest = "/".join(p.strip("/") for p in parts if p)
        return f"{base}/{rest}" if rest else base

    # -- remote filesystem -------------------------------------------------------------------
    def _remote_fs(self):
        with self._lock:
            if self._fs is None:
                self._fs = _azure_filesystem(self.location, self._options)
        return self._fs

    def _remote_path(self, uri: str) -> str:
        return urlparse(uri).path.strip("/")

    def _remote(self, verb: str, uri: str, call):
        """Run one remote call; a failure becomes a KitError (credentials masked, advice by
        cause); a timeout or a refused connection marks the storage unreachable."""
        if self._down:
            raise KitError(self._down)
        fs = self._remote_fs()
        try:
            return call(fs)
        except FileNotFoundError:
            raise
        except KitError:
            raise
        except Exception as exc:  # deltalake's object store raises OSError and its own types
            raise self.fault(exc, verb=verb, uri=uri) from None

    def fault(self, exc: BaseException, *, verb: str = "read", uri: str | None = None) -> KitError:
        """A storage failure as a one-line KitError naming the URI (without secrets) and what
        to do; the storage is marked unreachable when the endpoint timed out or refused."""
        from .faults import describe

        where = display_location(uri or self.location)
        problem, advice, unreachable = describe(self.redact(str(exc)), self._options)
        error = KitError(f"Cannot {verb} {where!r}: {problem}. {advice}")
        if unreachable:
            with self._lock:
                self._down = self._down or str(error)
        return error

    def observe(self, exc: BaseException) -> None:
        """Note a failure met outside this class (a table read by deltalake or DuckDB): a
        timeout or a refused connection marks the storage unreachable."""
        if self.remote and not self._down and not isinstance(exc, KitError):
            from .faults import describe

            _problem, _advice, unreachable = describe(self.redact(str(exc)), self._options)
            if unreachable:
                self.fault(exc)

    def check_available(self) -> None:
        """Raise the recorded KitError when the storage has stopped answering."""
        if self._down:
            raise KitError(self._down)

    @property
    def unreachable(self) -> bool:
        return self._down is not None

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
            infos = self._remote("list", uri, lambda fs: fs.get_file_info(
                pafs.FileSelector(self._remote_path(uri), allow_not_found=True)))
        except FileNotFoundError:
            return []
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def is_dir(self, uri: str) -> bool:
        if not self.remote:
            return os.path.isdir(uri)
        import pyarrow.fs as pafs

        try:
            info = self._remote("list", uri, lambda fs: fs.get_file_info(self._remote_path(uri)))
        except FileNotFoundError:
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
            infos = self._remote("list", uri, lambda fs: fs.get_file_info(
                pafs.FileSelector(self._remote_path(uri), allow_not_found=True)))
        except FileNotFoundError:
            return []
        return sorted(
            (i.base_name, i.size or 0, i.mtime.timestamp() if i.mtime else 0.0)
            for i in infos
            if i.type == pafs.FileType.File
        )

    def read_bytes(self, uri: str) -> bytes:
        if not self.remote:
            with open(uri, "rb") as fh:
                return fh.read()

        def read(fs):
            with fs.open_input_stream(self._remote_path(uri)) as fh:
                return fh.read()

        return self._remote("read", uri, read)

    def read_many(self, uris: list[str]) -> list[bytes]:
        """The contents of several small files, in order; remote files are fetched in
        parallel (each request waits on the network, not on the CPU)."""
        if not self.remote or len(uris) < 2:
            return [self.read_bytes(u) for u in uris]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(PARALLEL_REQUESTS, len(uris))) as pool:
            return list(pool.map(self.read_bytes, uris))

    def map(self, function, items: list):
        """``[function(item) for item in items]``, in parallel for a remote location."""
        items = list(items)
        if not self.remote or len(items) < 2:
            return [function(i) for i in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(PARALLEL_REQUESTS, len(items))) as pool:
            return list(pool.map(function, items))

    def missing(self, uris: list[str]) -> list[str]:
        """The files of ``uris`` that do not exist, in order. Remotely one listing per folder
        (in parallel), then a direct look at any name the listing lacks (a name the store
        encodes differently must not be reported missing)."""
        if not self.remote:
            return [u for u in uris if not os.path.exists(u)]
        folders = sorted({u.rsplit("/", 1)[0] for u in uris})
        listed = dict(zip(folders, self.map(lambda f: {n for n, _s, _m in self.list_files(f)}, folders)))
        unlisted = [u for u in uris if u.rsplit("/", 1)[1] not in listed[u.rsplit("/", 1)[0]]]
        gone = self.map(lambda u: not self.exists(u), unlisted)
        return [u for u, g in zip(unlisted, gone) if g]

    def mtime(self, uri: str) -> float:
        """Modification time of a file (epoch seconds); FileNotFoundError when it is absent."""
        if not self.remote:
            return os.stat(uri).st_mtime
        import pyarrow.fs as pafs

        info = self._remote("read", uri, lambda fs: fs.get_file_info(self._remote_path(uri)))
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(uri)
        return info.mtime.timestamp() if info.mtime else 0.0

    def exists(self, uri: str) -> bool:
        if not self.remote:
            return os.path.exists(uri)
        import pyarrow.fs as pafs

        try:
            info = self._remote("read", uri, lambda fs: fs.get_file_info(self._remote_path(uri)))
        except FileNotFoundError:
            return False
        return info.type != pafs.FileType.NotFound


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


def emulator_endpoint() -> str:
    """The emulator's blob endpoint (Azurite): ``AZURITE_BLOB_STORAGE_URL``, as deltalake reads it."""
    return os.environ.get("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:10000")


def _azure_filesystem(location: str, options: dict[str, str]):
    """A pyarrow filesystem over deltalake's object store, rooted at the container (listing and
    reading small files with the same credentials, options and timeouts as the table reads)."""
    import pyarrow.fs as pafs
    from deltalake.fs import DeltaStorageHandler

    parsed = urlparse(location)
    if parsed.scheme not in _AZURE_SCHEMES:
        raise KitError(
            f"{parsed.scheme}:// locations are not supported: the kit reads local folders, Azure "
            "storage (abfss://, az://) and OneLake. Copy or mount the lake locally."
        )
    opts = {k.lower(): v for k, v in options.items()}
    host = parsed.hostname or ""
    emulator = any(_truthy(opts.get(k, "")) for k in _EMULATOR_KEYS)
    account = (
        next((opts[k] for k in _ACCOUNT_KEYS if opts.get(k)), None)
        or (host.split(".")[0] if "." in host else None)
        or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        or ("devstoreaccount1" if emulator else None)
    )
    onelake = host.endswith((".fabric.microsoft.com",))
    if not account and not onelake:
        raise KitError(
            "Cannot tell the storage account of this location: pass "
            "storage_options={'azure_storage_account_name': ...} (or set AZURE_STORAGE_ACCOUNT_NAME) "
            "or a URI of the form abfss://<container>@<account>.dfs.core.windows.net/<path>."
        )
    key = next((opts[k] for k in _KEY_KEYS if opts.get(k)), None)
    if key:
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise KitError(
                "The storage account key in storage_options is not valid base64: copy it again "
                "from the storage account's Access keys page."
            ) from None
    if emulator:
        emu = urlparse(emulator_endpoint())
        probe_host, probe_port = emu.hostname or "127.0.0.1", emu.port or (443 if emu.scheme == "https" else 80)
    elif onelake:
        probe_host, probe_port = host, parsed.port or 443
    else:
        probe_host, probe_port = f"{account}.blob.core.windows.net", 443
    _check_reachable(location, probe_host, probe_port)
    root = parsed._replace(path="/", query="", fragment="").geturl()
    try:
        return pafs.PyFileSystem(DeltaStorageHandler(root, options))
    except Exception as exc:  # deltalake raises several types here
        secrets = [v for k, v in options.items() if isinstance(v, str) and k.lower() not in NOT_SECRET]
        raise KitError(
            f"Cannot connect to {display_location(location)!r} (account {account!r}): "
            f"{redact(' '.join(str(exc).split()), secrets)[:300]}. Check the storage_options."
        ) from None
