import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)  # tests import lakebuilder
ROOT = os.path.dirname(HERE)
# Test material written by others, kept in the repository (tests/fixtures/README.md).
FIXTURES = os.path.join(HERE, "fixtures")


@pytest.fixture
def fixtures_dir():
    # In the repository: missing means a broken checkout, an error rather than a skip.
    assert os.path.isdir(os.path.join(FIXTURES, "delta")), f"test fixtures missing at {FIXTURES}"
    return FIXTURES


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole run (loopback only, UTC), started by the kit as
    ``open_lake(..., engine="spark")`` starts it. Skips when pyspark or Java is missing, with
    the reason; with ``KIT_REQUIRE_SPARK=1`` (CI) that is a failure instead."""
    import shutil

    reason = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reason = "pyspark is not installed (pip install -r requirements-dev.txt)"
    if reason is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no Java runtime (apt-get install openjdk-17-jre-headless)"
    if reason is not None:
        if os.environ.get("KIT_REQUIRE_SPARK") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("KIT_SPARK_MASTER", "local[2]")
    from kit.engines.spark import session

    spark = session()
    yield spark
    spark.stop()
