import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)  # tests import lakebuilder
ROOT = os.path.dirname(HERE)
FIXTURES = os.path.normpath(os.path.join(ROOT, "..", "shared", "fixtures"))


@pytest.fixture
def fixtures_dir():
    if not os.path.isdir(FIXTURES):
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES
