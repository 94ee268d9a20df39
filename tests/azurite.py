"""A real Azurite (Microsoft's storage emulator) for the remote-lake tests.

Started once per session on a free port of 127.0.0.1, with ``--disableTelemetry`` (without it
Azurite calls out to the internet) and in-memory persistence; stopped by its process id. The
binary is found on PATH or under ``.ci-tools/node_modules/.bin`` (``.ci/run`` installs it there
with npm). When it is missing the tests skip with the reason, unless ``KIT_REQUIRE_AZURITE=1``
(CI), where they fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "devstoreaccount1"
# The well-known key of the emulator, published by Microsoft; it protects nothing.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def find_binary() -> str | None:
    found = shutil.which("azurite-blob")
    if found:
        return found
    local = os.path.join(ROOT, ".ci-tools", "node_modules", ".bin", "azurite-blob")
    return local if os.path.exists(local) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Azurite:
    def __init__(self, binary: str, workdir: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "azurite.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--inMemoryPersistence",
             "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Azurite exited with status {self.proc.returncode}; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("Azurite did not start within 60 s")
        self._local = threading.local()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)  # Azurite sometimes ignores SIGTERM
                self.proc.wait(10)
        self.log.close()

    # -- credentials ---------------------------------------------------------------------------
    def options(self, **extra) -> dict[str, str]:
        return {"azure_storage_account_name": ACCOUNT, "azure_storage_account_key": KEY,
                "azure_storage_use_emulator": "true", **extra}

    @staticmethod
    def account_sas(permissions: str = "rl", expiry: str = "2099-01-01T00:00:00Z",
                    version: str = "2021-08-06", key: str = KEY) -> str:
        """An account SAS in the form the SDK and the portal give it: no leading '?'."""
        to_sign = "\n".join([ACCOUNT, permissions, "b", "sco", "", expiry, "", "https,http", version, "", ""])
        sig = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()).decode()
        return (f"se={quote(expiry, safe='')}&sp={permissions}&spr=https%2Chttp&sv={version}"
                f"&ss=b&srt=sco&sig={quote(sig, safe='')}")

    def uri(self, container: str, path: str = "") -> str:
        return f"abfss://{container}@{ACCOUNT}.dfs.core.windows.net/{path}"

    # -- data ----------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes = b"", query: str = "", headers=None) -> int:
        """One Blob REST request signed with the account key (SharedKey), on this thread's
        keep-alive connection: one request per file, where pyarrow's client makes several."""
        import http.client
        from email.utils import formatdate

        headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06", **(headers or {})}
        resource = f"/{ACCOUNT}/{ACCOUNT}/{path}"
        params = sorted(q.split("=", 1) for q in query.split("&") if q)
        canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()) if k.startswith("x-ms-"))
        canonical_resource = resource + "".join(f"\n{k}:{v}" for k, v in params)
        length = str(len(body)) if body else ""
        to_sign = "\n".join([method, "", "", length, "", headers.get("Content-Type", ""), "", "", "", "", "", ""])
        to_sign += "\n" + canonical_headers + canonical_resource
        sig = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
        headers["Authorization"] = f"SharedKey {ACCOUNT}:{sig}"
        url = f"/{ACCOUNT}/{path}" + (f"?{query}" if query else "")
        for attempt in (1, 2):  # Azurite closes idle keep-alive connections: reconnect once
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request(method, url, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def create_container(self, container: str) -> None:
        status = self._request("PUT", container, query="restype=container")
        assert status in (201, 409), f"creating container {container}: HTTP {status}"

    def upload(self, local: str, container: str, prefix: str = "") -> int:
        """Copy the folder ``local`` to ``container/prefix`` (parallel); the number of files."""
        self.create_container(container)
        files = [os.path.join(d, f) for d, _, names in os.walk(local) for f in names]

        def put(path):
            rel = os.path.relpath(path, local).replace(os.sep, "/")
            target = "/".join(p for p in (prefix.strip("/"), rel) if p)
            with open(path, "rb") as src:
                data = src.read()
            status = self._request("PUT", f"{container}/{quote(target, safe='/=')}", data,
                                   headers={"x-ms-blob-type": "BlockBlob"})
            assert status == 201, f"uploading {target}: HTTP {status}"

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, files))
        return len(files)
