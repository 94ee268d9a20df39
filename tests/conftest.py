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
