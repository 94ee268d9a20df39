"""Remote lakes against a real Azurite on 127.0.0.1: the kit's remote results equal the local
ones, every credential form works, secrets never show, faults end in one clear line, and a
storage that stops answering gives a KitError in bounded time (never a hang)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest
from pandas.testing import assert_frame_equal

import kit
from kit.storage import Storage, redact

import azurite as az

ROOT = az.ROOT
SAMPLE = os.path.join(ROOT, "sample_lake")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "delta")
FIXTURE_TABLES = [
    "deltars__simple_table_with_checkpoint",
    "deltars__table-with-dv-small",
    "deltars__table_with_column_mapping",
    "deltars__table_with_edge_timestamps",
    "golden__kernel-timestamp-INT96",
    "deltars__checkpoint_with_partitions",
]


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    binary = az.find_binary()
    if binary is None:
        reason = "Azurite not found (npm install --prefix .ci-tools azurite, or put azurite-blob on PATH)"
        if os.environ.get("KIT_REQUIRE_AZURITE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = az.Azurite(binary, str(tmp_path_factory.mktemp("azurite")))
    saved = os.environ.get("AZURITE_BLOB_STORAGE_URL")
    os.environ["AZURITE_BLOB_STORAGE_URL"] = server.url  # where deltalake's object store finds it
    try:
        server.upload(SAMPLE, "lake")
        if os.path.isdir(FIXTURES):
            for name in FIXTURE_TABLES:
                server.upload(os.path.join(FIXTURES, name), "fixtures", f"delta/{name}")
        yield server
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("AZURITE_BLOB_STORAGE_URL", None)
        else:
            os.environ["AZURITE_BLOB_STORAGE_URL"] = saved


@pytest.fixture(scope="module")
def lakes(azurite):
    return kit.open_lake(SAMPLE), kit.open_lake(azurite.uri("lake"), storage_options=azurite.options())


def frames_equal(local, remote):
    assert_frame_equal(local.reset_index(drop=True), remote.reset_index(drop=True), check_dtype=True)


def no_secret(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text, "a credential leaked"
    assert "sig=" not in text.replace("sig=***", "")


# -- remote equals local ------------------------------------------------------------------------
def test_tables_remote_equal_local(lakes):
    local, remote = lakes
    start = time.perf_counter()
    expected = kit.open_lake(SAMPLE).tables()
    local_s = time.perf_counter() - start
    start = time.perf_counter()
    got = remote.tables()
    remote_s = time.perf_counter() - start
    print(f"tables(): local {local_s:.2f} s, remote (Azurite) {remote_s:.2f} s")
    assert got["error"].isna().all(), got["error"].dropna().tolist()
    frames_equal(expected, got)
    assert remote.table_names == local.table_names


def test_changes_remote_equal_local(lakes):
    local, remote = lakes
    for name in local.analysable(None):
        order = "order by all"
        frames_equal(local.sql(f"select * from ({local.changes_sql(name)}) {order}").df(),
                     remote.sql(f"select * from ({remote.changes_sql(name)}) {order}").df())
        frames_equal(local.history(name), remote.history(name))


@pytest.mark.parametrize("analysis", [
    lambda lake: kit.sync_latency(lake, by="day"),
    lambda lake: kit.sync_latency(lake, by="hour", when="landed"),
    lambda lake: kit.change_volume(lake, by="hour"),
    lambda lake: kit.throughput(lake),
    lambda lake: kit.daily_volume(lake),
    lambda lake: kit.sync_cadence(lake),
    lambda lake: kit.sync_gaps(lake),
    lambda lake: kit.freshness(lake),
    lambda lake: kit.anomalies(lake),
], ids=["latency_day", "latency_landed", "volume", "throughput", "daily_volume", "cadence", "gaps",
        "freshness", "anomalies"])
def test_analyses_remote_equal_local(lakes, analysis):
    local, remote = lakes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames_equal(analysis(local), analysis(remote))


def test_fixture_tables_remote_equal_local(azurite):
    if not os.path.isdir(FIXTURES):
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    for name in FIXTURE_TABLES:
        local = kit.open_lake(os.path.join(FIXTURES, name))
        remote = kit.open_lake(azurite.uri("fixtures", f"delta/{name}"), storage_options=azurite.options())
        (table,) = local.table_names
        assert remote.table_names == [table]
        query = f'select * from "{table}" order by all'
        try:
            expected = local.sql(query).df()
        except kit.KitError as exc:  # refused locally: refused remotely too, for the same reason
            with pytest.raises(kit.KitError) as info:
                remote.sql(query).df()
            assert type(info.value) is type(exc)
            continue
        frames_equal(expected, remote.sql(query).df())


# -- credentials --------------------------------------------------------------------------------
def _base():
    return {"azure_storage_account_name": az.ACCOUNT, "azure_storage_use_emulator": "true"}


@pytest.mark.parametrize("form", ["plain", "question_mark"])
def test_sas_token_in_both_forms(azurite, form, monkeypatch):
    sas = azurite.account_sas()
    token = sas if form == "plain" else "?" + sas
    # in storage_options
    lake = kit.open_lake(azurite.uri("lake"), storage_options={**_base(), "azure_storage_sas_token": token})
    assert lake.sql("select count(*) from account").fetchall() == [(1579,)]
    assert "sig=" not in repr(lake) and "sig=" not in repr(lake.storage)
    # in the environment
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", token)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", az.ACCOUNT)
    monkeypatch.setenv("AZURE_STORAGE_USE_EMULATOR", "true")
    assert kit.open_lake(azurite.uri("lake")).sql("select count(*) from account").fetchall() == [(1579,)]
    monkeypatch.delenv("AZURE_STORAGE_SAS_TOKEN")
    # in the URI
    lake = kit.open_lake(azurite.uri("lake") + "?" + sas)
    assert lake.sql("select count(*) from contact").fetchall() == [(2688,)]
    assert "sig=" not in repr(lake)


def test_emulator_from_the_environment_alone(azurite, monkeypatch):
    """AZURE_STORAGE_USE_EMULATOR=true: no options at all (the emulator's well-known account)."""
    for var in ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_ACCOUNT_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AZURE_STORAGE_USE_EMULATOR", "true")
    lake = kit.open_lake(azurite.uri("lake"))
    assert lake.sql("select count(*) from account").fetchall() == [(1579,)]


def _cli(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(PYTHONPATH=ROOT, **env_extra)
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def test_cli_reaches_azurite_by_environment(azurite):
    local = _cli(["tables", SAMPLE, "--format", "csv"], {})
    remote = _cli(["tables", azurite.uri("lake"), "--format", "csv"],
                  {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": azurite.url,
                   "AZURE_STORAGE_ACCOUNT_KEY": az.KEY})
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert az.KEY not in remote.stdout + remote.stderr


# -- failures: one line, a KitError, no secret --------------------------------------------------
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LTEyMzQ1Njc4OTA="


def _failures(azurite):
    expired = azurite.account_sas(expiry="2001-01-01T00:00:00Z")
    list_only = azurite.account_sas(permissions="l")
    return {
        "wrong_key": (azurite.uri("lake"), {**_base(), "azure_storage_account_key": WRONG_KEY},
                      [WRONG_KEY], "refused the credential"),
        "expired_sas": (azurite.uri("lake"), {**_base(), "azure_storage_sas_token": expired},
                        [expired], "refused the credential"),
        "sas_without_read": (azurite.uri("lake"), {**_base(), "azure_storage_sas_token": list_only},
                             [list_only], "lacks a permission"),
        "missing_container": (azurite.uri("nosuchcontainer"), {**_base(), "azure_storage_account_key": az.KEY},
                              [az.KEY], "does not exist|No tables found"),
    }


@pytest.mark.parametrize("case", ["wrong_key", "expired_sas", "sas_without_read", "missing_container"])
def test_failures_are_one_line_kit_errors_without_secrets(azurite, case):
    import re

    uri, options, secrets, expected = _failures(azurite)[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(kit.KitError) as info:
            lake = kit.open_lake(uri, storage_options=options)
            no_secret(repr(lake), *secrets)
            df = lake.tables()
            for text in df["error"].dropna():
                no_secret(text, *secrets)
            lake.sql("select count(*) from account").fetchall()
    text = str(info.value)
    assert re.search(expected, text), text
    assert "\n" not in text
    assert ("nosuchcontainer" if case == "missing_container" else "devstoreaccount1") in text
    no_secret(text + repr(info.value.args), *secrets)
    for w in caught:
        no_secret(str(w.message), *secrets)
    assert info.value.__cause__ is None
    # the CLI: one line on stderr, exit 2, no secret
    env = {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": azurite.url,
           "AZURE_STORAGE_ACCOUNT_NAME": az.ACCOUNT}
    for key, value in options.items():
        if key == "azure_storage_account_key":
            env["AZURE_STORAGE_ACCOUNT_KEY"] = value
        if key == "azure_storage_sas_token":
            env["AZURE_STORAGE_SAS_TOKEN"] = value
    run = _cli(["latency", uri], env)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and len(run.stderr.splitlines()) <= 2, run.stderr  # the error (and a note)
    no_secret(run.stdout + run.stderr, *secrets)


def test_bearer_token_is_never_shown(azurite):
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2lnbmF0dXJlLXBhcnQ"
    try:
        lake = kit.open_lake(azurite.uri("lake"), storage_options={**_base(), "azure_storage_token": token})
        assert token not in repr(lake)
        text = " ".join(str(e) for e in lake.tables()["error"].dropna())
    except kit.KitError as exc:
        text = str(exc)
    assert token not in text and "c2VjcmV0LXRva2VuLXBheWxvYWQ" not in text


# -- a storage that stops answering -------------------------------------------------------------
@pytest.fixture
def stopped(azurite):
    """Azurite frozen (SIGSTOP): it accepts connections (the kernel does) but never answers."""
    os.kill(azurite.pid, signal.SIGSTOP)
    try:
        yield azurite
    finally:
        os.kill(azurite.pid, signal.SIGCONT)


def test_stopped_emulator_gives_a_kit_error_within_a_minute(stopped):
    start = time.perf_counter()
    with pytest.raises(kit.KitError) as info:
        kit.open_lake(stopped.uri("lake"), storage_options=stopped.options()).tables()
    assert time.perf_counter() - start < 70
    text = str(info.value)
    assert "did not answer" in text and stopped.uri("lake") in text and "\n" not in text
    no_secret(text, az.KEY)


def test_storage_gone_mid_run(azurite, monkeypatch):
    monkeypatch.setenv("KIT_STORAGE_TIMEOUT", "3")
    lake = kit.open_lake(azurite.uri("lake"), storage_options=azurite.options())
    lake.view("account")
    os.kill(azurite.pid, signal.SIGSTOP)
    try:
        start = time.perf_counter()
        with pytest.raises(kit.KitError, match="did not answer") as info:
            lake.changes("account").fetchall()
        no_secret(str(info.value), az.KEY)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = lake.tables()  # every table fails at once: the storage is known to be down
            with pytest.raises(kit.KitError, match="did not answer"):
                kit.sync_latency(lake, tables=["contact"])
            with pytest.raises(kit.KitError, match="did not answer"):
                kit.change_volume(lake)  # all tables: the analysis fails, not table by table
        assert time.perf_counter() - start < 70
        assert df["error"].notna().all() and df["error"].str.contains("did not answer").all()
    finally:
        os.kill(azurite.pid, signal.SIGCONT)


def test_endpoint_that_never_answers(monkeypatch):
    """A server that accepts connections and never replies (the default timeouts apply)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    port = server.getsockname()[1]
    held, done = [], threading.Event()

    def accept():
        server.settimeout(0.5)
        while not done.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("AZURITE_BLOB_STORAGE_URL", f"http://127.0.0.1:{port}")
    try:
        start = time.perf_counter()
        with pytest.raises(kit.KitError, match="did not answer") as info:
            kit.open_lake("abfss://lake@devstoreaccount1.dfs.core.windows.net/",
                          storage_options={**_base(), "azure_storage_account_key": az.KEY})
        assert time.perf_counter() - start < 70
        assert "abfss://lake@devstoreaccount1.dfs.core.windows.net/" in str(info.value)
        no_secret(str(info.value), az.KEY)
    finally:
        done.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


# -- masking, without a server ------------------------------------------------------------------
def test_redact_masks_credential_shapes_in_any_text():
    sig = "c2VjcmV0LXNhcy1zaWduYXR1cmU%3D"
    samples = {
        f"GET https://a.blob.core.windows.net/c?sv=2024-01-01&sig={sig}&se=x failed": sig,
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=S3cretKeyValue==;": "S3cretKeyValue",
        "body: grant_type=client_credentials&client_id=abc&client_secret=Very.Secret~Value": "Very.Secret~Value",
        'response {"access_token": "eyJhbGciOi.payload.signature", "expires_in": 3599}': "eyJhbGciOi",
        "header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def": "eyJhbGciOiJIUzI1NiJ9",
        "Authorization: SharedKey devstoreaccount1:Zm9vYmFyYmF6cXV4": "Zm9vYmFyYmF6cXV4",
    }
    for text, secret in samples.items():
        assert secret not in redact(text), text
    # known values in every encoding a library may print them in
    token = "sv=2024-05-04&sig=SECRET%2BSIG%3D"
    assert "SECRET" not in redact("sig: SECRET+SIG= or SECRET%2BSIG%3D", [token])


@pytest.mark.parametrize("options", [
    {"azure_storage_account_key": az.KEY},
    {"azure_storage_sas_token": "sv=2024-05-04&sig=SECRETSIG123"},
    {"azure_client_id": "app-id", "azure_client_secret": "Client~Secret.Value", "azure_tenant_id": "t"},
    {"azure_storage_token": "bearer-token-value-123"},
    {"azure_use_azure_cli": "true"},
])
def test_each_credential_kind_is_masked(options):
    storage = Storage("abfss://c@acct.dfs.core.windows.net/lake", options)
    secrets = [v for k, v in options.items() if k not in ("azure_client_id", "azure_tenant_id", "azure_use_azure_cli")]
    for value in secrets:
        assert value in storage.secrets() or value.lstrip("?") in storage.secrets()
        assert value not in repr(storage)
        assert value not in str(storage.fault(OSError(f"403 Forbidden while using {value}")))
    # timeouts are always set, and settings stay visible
    assert storage.storage_options["timeout"] and storage.storage_options["connect_timeout"]


def test_timeouts_are_settable(monkeypatch):
    monkeypatch.setenv("KIT_STORAGE_TIMEOUT", "7")
    monkeypatch.setenv("KIT_STORAGE_CONNECT_TIMEOUT", "2")
    opts = Storage("abfss://c@acct.dfs.core.windows.net/").storage_options
    assert (opts["timeout"], opts["connect_timeout"]) == ("7s", "2s")
    opts = Storage("abfss://c@acct.dfs.core.windows.net/", {"timeout": "90s"}).storage_options
    assert opts["timeout"] == "90s"


def test_sas_token_is_normalised():
    storage = Storage("az://c/lake", {"sas_token": "?sv=1&sig=abc%3D"})
    assert storage.storage_options["sas_token"] == "sv=1&sig=abc%3D"


def test_collect_from_a_remote_lake_equals_local(azurite, tmp_path):
    """The store beside a remote lake: a collect reads the feed through deltalake (the engine
    cannot reach Azure itself) and records what a collect of the same local lake records."""
    import duckdb

    local_store, remote_store = tmp_path / "local.duckdb", tmp_path / "remote.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kit.SkippedTableWarning)
        a = kit.open_lake(SAMPLE, store=local_store).collect()
        b = kit.open_lake(azurite.uri("lake"), storage_options=azurite.options(), store=remote_store).collect()
    frames_equal(a.drop(columns="note"), b.drop(columns="note"))
    rows = 'select * from landings order by "table", id, versionnumber'
    with duckdb.connect(str(local_store), read_only=True) as x, duckdb.connect(str(remote_store), read_only=True) as y:
        frames_equal(x.sql(rows).df(), y.sql(rows).df())
        recorded = str(y.sql("select * from kit_store").fetchall())
        assert "lake" in recorded
        no_secret(recorded, *[v for v in azurite.options().values() if len(str(v)) > 20])
