"""Finding tables: Synapse Link Delta, Fabric Link, a folder of Delta tables, a single table;
logical names; laziness; speed on 1,000 tables; remote locations that cannot be reached."""

import shutil
import time

import pyarrow as pa
import pytest
from lakebuilder import write_plain

import kit
from kit.formats import discovery
from kit.storage import location, secrets


def tiny(path, **cols):
    write_plain(str(path), pa.table(cols or {"Id": ["a"], "versionnumber": [1]}))


def found(lake):
    return [(n, lake.layout(n)) for n in lake.table_names]


def test_synapse_link_layout(tmp_path):
    for folder in ("account_partitioned", "Contact_partitioned", "OptionsetMetadata_partitioned", "msdyn_x_partitioned"):
        tiny(tmp_path / "deltalake" / folder)
    (tmp_path / "deltalake" / "_checkpoints").mkdir()
    (tmp_path / "Microsoft.Athena.TrickleFeedService").mkdir()  # other folders of the container
    lake = kit.open_lake(tmp_path)
    assert found(lake) == [
        ("account", "synapse_delta"), ("contact", "synapse_delta"),
        ("msdyn_x", "synapse_delta"), ("optionsetmetadata", "synapse_delta"),
    ]
    # the deltalake folder itself is the same layout
    lake = kit.open_lake(tmp_path / "deltalake")
    assert found(lake)[0] == ("account", "synapse_delta")


def test_fabric_layout(tmp_path):
    root = tmp_path / "dataverse_org.Lakehouse"
    tiny(root / "Tables" / "account")
    tiny(root / "Tables" / "contact")
    (root / "Files").mkdir()
    assert found(kit.open_lake(root)) == [("account", "fabric"), ("contact", "fabric")]
    # the Tables folder itself
    assert found(kit.open_lake(root / "Tables")) == [("account", "fabric"), ("contact", "fabric")]


def test_fabric_lakehouse_with_schemas(tmp_path):
    tiny(tmp_path / "Tables" / "dbo" / "account")
    tiny(tmp_path / "Tables" / "dbo" / "lead")
    assert found(kit.open_lake(tmp_path)) == [("account", "fabric"), ("lead", "fabric")]


def test_folder_of_delta_tables(tmp_path):
    tiny(tmp_path / "Account")
    tiny(tmp_path / "salesorder")
    (tmp_path / "not_a_table").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert found(kit.open_lake(tmp_path)) == [("account", "delta"), ("salesorder", "delta")]


def test_single_table(tmp_path):
    tiny(tmp_path / "Invoice_partitioned")
    lake = kit.open_lake(tmp_path / "Invoice_partitioned")
    assert found(lake) == [("invoice", "delta")]
    assert lake.sql("select count(*) from invoice").fetchall() == [(1,)]
    # file:// URIs and pathlib paths are local paths
    assert found(kit.open_lake("file://" + str(tmp_path / "Invoice_partitioned"))) == [("invoice", "delta")]


def test_logical_names():
    assert discovery.logical_name("Account_partitioned") == "account"
    assert discovery.logical_name("deltalake/SalesOrder_PARTITIONED/") == "salesorder"
    assert discovery.logical_name("mserp_custtable") == "mserp_custtable"


def test_two_folders_for_one_name_warn_and_use_the_first(tmp_path):
    tiny(tmp_path / "deltalake" / "account_partitioned")
    tiny(tmp_path / "deltalake" / "Account_partitioned", Id=["x", "y"], versionnumber=[1, 2])
    lake = kit.open_lake(tmp_path)
    assert lake.table_names == ["account"]
    with pytest.warns(UserWarning, match="Several folders map to table 'account'"):
        (n,) = lake.sql("select count(*) from account").fetchall()[0]
    assert n == 2  # 'Account_partitioned' sorts first


def test_discovery_reads_no_log(tmp_path, monkeypatch):
    tiny(tmp_path / "deltalake" / "account_partitioned")
    broken = tmp_path / "deltalake" / "broken_partitioned" / "_delta_log"
    broken.mkdir(parents=True)
    (broken / f"{0:020d}.json").write_text("garbage")
    import deltalake

    def no_open(*a, **k):  # pragma: no cover - called only on a regression
        raise AssertionError("discovery opened a table")

    monkeypatch.setattr(deltalake, "DeltaTable", no_open)
    lake = kit.open_lake(tmp_path)
    assert lake.table_names == ["account", "broken"]


def test_listing_1000_tables_is_fast(tmp_path):
    seed = tmp_path / "seed"
    tiny(seed)
    base = tmp_path / "lake" / "deltalake"
    for i in range(1000):
        shutil.copytree(seed, base / f"table{i:04d}_partitioned")
    # One set of 1,000 tables, moved between the three layouts (moving a folder is cheap).
    for layout, folder, root in (
        ("synapse_delta", "deltalake", tmp_path / "lake"),
        ("fabric", "Tables", tmp_path / "lake"),
        ("delta", "plain", tmp_path / "lake" / "plain"),
    ):
        if base.name != folder:
            base = base.rename(base.parent / folder)
        start = time.perf_counter()
        lake = kit.open_lake(root)
        names = lake.table_names
        elapsed = time.perf_counter() - start
        assert len(names) == 1000 and names[0] == "table0000" and lake.layout(names[0]) == layout
        print(f"{layout}: open_lake + table_names over 1,000 tables took {elapsed:.3f} s")
        assert elapsed < 2.0, f"listing 1,000 {layout} tables took {elapsed:.2f} s"
    shutil.rmtree(tmp_path / "lake")  # 1,000 folders would slow pytest's clean-up of old tmp dirs


# -- remote locations -------------------------------------------------------------------------
KEY = "ZmFrZS1hY2NvdW50LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkwYWJjZGVm"
SAS = "sv=2024-01-01&sig=c2VjcmV0LXNhcy1zaWduYXR1cmU%3D"


@pytest.fixture
def no_proxy(monkeypatch):
    """No proxy, and no network but loopback: other host names do not resolve, as on a machine
    that cannot reach Azure (the tests never send a DNS query out)."""
    import socket

    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host in ("localhost", "127.0.0.1", "::1"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def test_unreachable_account_fails_fast_without_leaking_the_key(no_proxy):
    start = time.perf_counter()
    with pytest.raises(kit.KitError) as info:
        kit.open_lake(
            "abfss://dataverse-org@kitnosuchacct0001.dfs.core.windows.net/",
            storage_options={"azure_storage_account_name": "kitnosuchacct0001", "azure_storage_account_key": KEY},
        )
    assert time.perf_counter() - start < 10
    text = str(info.value)
    assert KEY not in text and KEY not in repr(info.value.args)
    assert "kitnosuchacct0001" in text  # the account name is not a secret: it helps
    assert "Check the network" in text
    # no chained library exception (which could carry the key) behind it
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)


def test_hanging_endpoint_times_out(monkeypatch, no_proxy):
    """A network that swallows packets: the kit stops waiting after its probe timeout."""
    import socket
    import threading

    released = threading.Event()

    def hang(*args, **kwargs):
        released.wait(30)
        raise OSError("the test is over")  # end the probe thread cleanly, after the test

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(location, "_PROBE_TIMEOUT_S", 0.5)
    start = time.perf_counter()
    try:
        with pytest.raises(kit.KitError, match="no answer within"):
            kit.open_lake("abfss://c@kitnosuchacct0002.dfs.core.windows.net/lake",
                          storage_options={"account_key": KEY})
        assert time.perf_counter() - start < 5
    finally:
        released.set()


def test_emulator_refusing_connections(monkeypatch, no_proxy):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AZURITE_BLOB_STORAGE_URL", f"http://127.0.0.1:{port}")
    start = time.perf_counter()
    with pytest.raises(kit.KitError, match=f"127.0.0.1:{port}") as info:
        kit.open_lake("abfss://lake@devstoreaccount1.dfs.core.windows.net/", storage_options={
            "azure_storage_account_name": "devstoreaccount1", "azure_storage_account_key": KEY,
            "azure_storage_use_emulator": "true", "azure_allow_http": "true",
        })
    assert time.perf_counter() - start < 5
    assert KEY not in str(info.value)


def test_sas_token_in_uri_is_masked(no_proxy):
    with pytest.raises(kit.KitError) as info:
        kit.open_lake(f"abfss://c@kitnosuchacct0003.dfs.core.windows.net/lake?{SAS}")
    assert "sig=" not in str(info.value)
    assert secrets.display_location(f"https://a.blob.core.windows.net/c?{SAS}") == "https://a.blob.core.windows.net/c?***"
    assert secrets.display_location("abfss://u:pw123456@a.dfs.core.windows.net/x") == "abfss://u:***@a.dfs.core.windows.net/x"


def test_credentials_never_in_repr(tmp_path):
    tiny(tmp_path / "account")
    lake = kit.open_lake(tmp_path, storage_options={"azure_storage_account_key": KEY, "sas_token": SAS})
    assert KEY not in repr(lake) and SAS not in repr(lake)
    assert KEY not in repr(lake.storage) and KEY not in repr(lake["account"])


def test_other_schemes_are_refused_clearly():
    with pytest.raises(kit.KitError, match="s3:// locations are not supported"):
        kit.open_lake("s3://bucket/lake", storage_options={"aws_secret_access_key": KEY})


def test_malformed_account_key_is_refused_without_echoing_it(no_proxy):
    bad = "not base64 at all!!"
    with pytest.raises(kit.KitError, match="not valid base64") as info:
        kit.open_lake("abfss://c@kitnosuchacct0004.dfs.core.windows.net/", storage_options={"account_key": bad})
    assert bad not in str(info.value)


def test_sas_token_in_the_uri_moves_into_the_options():
    """Table paths are built by appending to the location: a token left in the URI would end up
    in the middle of every path (and in reprs)."""
    from kit.storage import Storage

    token = "sv=2024-05-04&sig=SECRETSIGNATURE123"
    storage = Storage(f"abfss://c@acct.dfs.core.windows.net/lake?{token}")
    assert storage.join("deltalake", "account_partitioned") == "abfss://c@acct.dfs.core.windows.net/lake/deltalake/account_partitioned"
    assert storage.storage_options["azure_storage_sas_token"] == token
    assert "SECRETSIGNATURE123" not in repr(storage)
