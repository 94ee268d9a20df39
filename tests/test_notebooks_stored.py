"""The stored notebooks: every figure carries a static image (nbconvert's HTML and GitHub show
it), and their test run does not depend on KIT_LAKE."""

import glob
import os
import subprocess
import sys

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
PLOTLY = "application/vnd.plotly.v1+json"


def figure_outputs(path):
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells for o in c.get("outputs", []) if PLOTLY in o.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_every_figure_has_a_png_beside_its_plotly_json(path):
    figures = figure_outputs(path)
    assert figures, path
    for output in figures:
        assert output["data"]["image/png"].startswith("iVBORw0KGgo"), "rebuild with python notebooks/build.py"


def test_nbconvert_html_shows_every_figure():
    from nbconvert import HTMLExporter

    path = os.path.join(ROOT, "notebooks", "04_throughput_and_thresholds.ipynb")
    import re

    body, _ = HTMLExporter().from_filename(path)
    images = re.findall(r'<img [^>]*src="data:image/png;base64,', body)
    assert len(images) == len(figure_outputs(path)) > 0


def test_notebook_size_stays_small():
    for path in NOTEBOOKS:
        assert os.path.getsize(path) < 1_000_000, path


def test_kit_lake_does_not_change_what_the_notebooks_are_checked_on(tmp_path):
    env = dict(os.environ, KIT_LAKE=str(tmp_path / "my-own-lake"))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                          "--nbval-current-env", "notebooks/03_change_volumes.ipynb"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "KIT_LAKE is set; the notebooks were checked on the sample lake" in out.stdout
