"""The notebooks' stored outputs are the sample lake's: their tests always run on it.

nbval re-runs each notebook and compares every output with the stored one. A ``KIT_LAKE``
exported for JupyterLab (see README.md) would point the re-run at another lake and fail every
cell with chart-data diffs, so it is set aside for this test run (the kernels start after this
file is imported) and the summary says so.
"""

import os

SET_ASIDE = os.environ.pop("KIT_LAKE", None)
STORE_SET_ASIDE = os.environ.pop("KIT_STORE", None)  # the sample lake's store is beside it


def pytest_terminal_summary(terminalreporter):
    if SET_ASIDE is not None:
        terminalreporter.write_line(
            "note: KIT_LAKE is set; the notebooks were checked on the sample lake (their stored outputs are the "
            "sample lake's). To see your lake, open them in JupyterLab: do not commit those outputs.",
            yellow=True,
        )
