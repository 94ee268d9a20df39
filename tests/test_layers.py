"""The dependency rule: imports go down only (docs/DESIGN.md, "Layers").

    present -> metrics -> (changes, syncs) <- formats;  engines and storage at the bottom.

Each package of ``kit`` may import only the layers listed for it below; the entry points
(``kit/__init__.py``, ``cli.py``, ``report.py``, ``__main__.py``) may import anything. A failure
names the file, the line and the forbidden import.
"""

import ast
import os

import pytest

KIT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kit")

BOTTOM = {"errors", "settings"}
ALLOWED = {
    "errors": set(),
    "settings": set(),
    "engines": BOTTOM,
    "storage": BOTTOM,
    "dataverse": BOTTOM | {"engines"},
    "formats": BOTTOM | {"engines", "storage", "dataverse"},
    # The store remembers changes between runs: it sees what formats give, never a Lake.
    "store": BOTTOM | {"engines", "formats"},
    "lake": BOTTOM | {"engines", "storage", "dataverse", "formats", "store"},
    # The analyses see a lake only through what it is given (changes, syncs, coverage): no
    # format, storage or Lake import.
    "metrics": BOTTOM | {"engines", "dataverse"},
    # Words and figures from results: never a lake, a format or an engine. Storage only for
    # masking credentials in a displayed location.
    "present": BOTTOM | {"metrics", "storage"},
    "sample": BOTTOM,
}
ENTRY_POINTS = {"__init__", "__main__", "cli", "report"}


def layer_of(module: str) -> str:
    """``kit.metrics.health`` -> ``metrics``; ``kit.lake`` -> ``lake``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def kit_imports(path: str, module: str):
    """(line, imported kit module) for every import of a kit module in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "kit" or alias.name.startswith("kit."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "kit" or target.startswith("kit."):
                if target == "kit" or target.count(".") == 0:
                    for alias in node.names:  # from kit import charts / from . import readings
                        yield node.lineno, f"{target}.{alias.name}"
                else:
                    yield node.lineno, target


def modules():
    for folder, _dirs, files in os.walk(KIT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(KIT))[:-3].replace(os.sep, ".")
                yield path, rel.removesuffix(".__init__")


def test_every_package_has_a_rule():
    layers = {layer_of(m) for _p, m in modules()} - ENTRY_POINTS
    assert layers <= set(ALLOWED), f"no import rule for {sorted(layers - set(ALLOWED))}: add it to ALLOWED"


@pytest.mark.parametrize("path,module", sorted(modules()), ids=lambda v: v if "." in str(v) and "/" not in str(v) else "")
def test_imports_go_down_only(path, module):
    layer = layer_of(module)
    if layer in ENTRY_POINTS:
        return
    wrong = [
        f"{os.path.relpath(path, os.path.dirname(KIT))}:{line} imports {target} ({layer} may import "
        f"{', '.join(sorted(ALLOWED[layer])) or 'nothing from kit'})"
        for line, target in kit_imports(path, module)
        if layer_of(target) != layer and layer_of(target) not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_an_upward_import(tmp_path):
    """The check itself: a metrics module importing the Lake is reported with its line."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom ..lake import Lake\n")
    found = list(kit_imports(str(bad), "kit.metrics.bad"))
    assert found == [(2, "kit.lake")]
    assert layer_of(found[0][1]) not in ALLOWED["metrics"]


def test_whole_lake_analyses_warn_with_the_kit_warning_class(tmp_path):
    """A table the analysis cannot use is left out with a SkippedTableWarning (a KitWarning),
    so a pipeline can filter or escalate exactly those."""
    import warnings

    import kit
    from lakebuilder import SyncTable, plain_table, record, t

    acc = SyncTable(str(tmp_path / "deltalake" / "account_partitioned"))
    acc.initial([record("a1", 1, t(5, 12), t(5, 12))], t(5, 12))
    plain_table(str(tmp_path / "deltalake" / "notes_partitioned"), t(5, 12))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kit.sync_latency(kit.open_lake(tmp_path))
    skipped = [w for w in caught if issubclass(w.category, kit.SkippedTableWarning)]
    assert skipped and "notes" in str(skipped[0].message)
    assert issubclass(kit.SkippedTableWarning, kit.KitWarning)
