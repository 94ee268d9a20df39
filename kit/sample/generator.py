"""The sample lake: a simulated Dataverse export to Delta, and the truth about what happened.

``python -m kit sample DEST [--days N] [--scale X] [--seed S] [--layout synapse|fabric]``, or
``generate(dest, days=28, scale=1.0, seed=7, layout="synapse")`` (returns the truth), writes a
lake that looks and behaves like an Azure Synapse Link for Dataverse export in the Delta Lake
format (``layout="fabric"``: like Link to Microsoft Fabric), plus ``DEST/TRUTH.json``: what the
simulated organisation did and what landed when, computed from the simulation state, never by
reading the lake back. The committed ``sample_lake/`` is ``generate("sample_lake")``.
Regenerating gives the same files, rows, versions and commit times: numpy generators seeded from
``seed``, file names and ids drawn from them, no wall clock. (deltalake writes the checkpoints and
leaves out remove tombstones that are expired by the wall clock; on a machine whose clock is
before October 2026 the checkpoint files would list them, which readers ignore.)

What the lake holds
-------------------
Synapse layout: ``DEST/deltalake/<table>_partitioned/``, Hive-partitioned by ``PartitionId`` (the
year of ``createdon``), the option-set metadata tables beside them (``OptionsetMetadata``,
``GlobalOptionsetMetadata``, ``StateMetadata``, ``StatusMetadata``, ``TargetMetadata``:
unpartitioned, one WRITE each, a label for every choice value used). Fabric layout:
``DEST/Tables/<table>/`` with lowercase names. In both, live rows have ``IsDelete`` NULL.

The modules, each importing only those above it: ``clock`` (time), ``arrays`` (vectorised
helpers), ``spec`` (the story: window, schedule, incidents, table specs), ``schemas`` (columns
and vocabularies), ``simulate`` (activity, runs and landings, warts), ``columns`` (column
values), ``deltalog`` (the Delta tables: commits, files, log, checkpoints), ``metadata`` (the
option-set tables), ``truth`` (TRUTH.json) and this one (``generate`` and the CLI).

Measured here (2 cores): the default run takes about 5 s (0.5 GB peak memory); ``--scale 20``
takes about 40 s (4.7 GB peak memory, 225 MB and 4,823 files on disk), with ``email`` landing
6.2 million row versions (1.1 million on its peak day). Everything is vectorised with numpy
and pyarrow; Python loops run per commit and per file, never per row.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from ..errors import InvalidOptionError
from .clock import DAY, MINUTE
from .columns import TableData, assign_partitions, build_columns, record_basics
from .deltalog import (LAYOUTS, run_log, set_file_times, table_dir, write_checkpoints, write_log,
                       write_table_files)
from .metadata import label_rows, write_metadata_table
from .schemas import load_schemas
from .simulate import apply_warts, assign_versionnumbers, initial_sink_ms, schedule_landings, simulate_table
from .spec import END, INITIAL_LOAD_BEFORE, TABLES, Window
from .truth import assemble_truth, table_truth, write_truth

__all__ = ["generate", "main"]


def prepare_dest(dest: Path) -> None:
    """An empty folder, or a previous sample (recognised by its TRUTH.json) to replace."""
    if dest.exists() and any(dest.iterdir()):
        if not (dest / "TRUTH.json").exists():
            raise InvalidOptionError(f"{dest} is not empty and holds no sample lake (no TRUTH.json): "
                                     "choose an empty or new folder.")
        for part in ("deltalake", "Tables", "TRUTH.json"):
            p = dest / part
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def generate(dest, *, days: int = 28, scale: float = 1.0, seed: int = 7, layout: str = "synapse",
             vacuum: bool = True) -> dict:
    """Write the sample lake to dest and return its truth (also written as dest/TRUTH.json).

    ``vacuum=False``: keep every data and change file the simulated job ever wrote (no final
    vacuum): the lake as a writer that never vacuums leaves it, whose feed reaches back to the
    table's creation; ``sample.replay`` shows it at any earlier moment, vacuumed as of then.
    Same tables, ids, versions, rows and commit times; file sizes in the log are measured, not
    estimated, so its log files differ from the vacuumed lake's."""
    if layout not in LAYOUTS:
        raise InvalidOptionError(f"layout must be one of {LAYOUTS}, not {layout!r}.")
    if not 7 <= int(days) <= 366:
        raise InvalidOptionError(f"days must be between 7 and 366, not {days}.")
    if not 0 < scale <= 1000:
        raise InvalidOptionError(f"scale must be positive (and at most 1000), not {scale}.")
    dest = Path(dest)
    prepare_dest(dest)
    window = Window(END - int(days) * DAY, END, int(days))
    schemas = load_schemas()
    tables = simulate_all(window, scale, seed, schemas)
    truth_tables = {}
    for t in tables.values():
        sim = run_log(t, np.random.default_rng([seed, t.no, 5]), window, t.v0_ms, vacuum=vacuum)
        tdir = dest / table_dir(layout, t.name)
        write_table_files(t, sim, tdir)
        write_log(t, sim, tdir, layout)
        write_checkpoints(tdir, [c.ms for c in sim.commits])
        set_file_times(sim, tdir)
        truth_tables[t.name] = table_truth(t, sim)
        truth_tables[t.name]["path"] = table_dir(layout, t.name)
        t.record_cols = t.version_cols = None      # written: free the columns (big at --scale)
    meta_rng = np.random.default_rng([seed, 98])
    meta_ms = (window.start - INITIAL_LOAD_BEFORE - 5 * MINUTE) * 1000
    for name, rows in label_rows(tables).items():
        truth_tables[name] = write_metadata_table(dest, layout, name, rows, meta_rng, meta_ms)
    truth = assemble_truth(truth_tables, tables, window, days, scale, seed, layout)
    write_truth(dest, truth)
    return truth


def simulate_all(window: Window, scale: float, seed: int, schemas: dict) -> dict[str, TableData]:
    """Activity, versionnumbers, landings, warts and columns of every table."""
    tables = {}
    for no, spec in enumerate(TABLES):
        versions, records = simulate_table(np.random.default_rng([seed, no, 1]), spec, window, scale)
        tables[spec.name] = TableData(no, spec, schemas[spec.name], versions, records)
    assign_versionnumbers(np.random.default_rng([seed, 99]), [t.versions for t in tables.values()])
    for t in tables.values():
        rng = np.random.default_rng([seed, t.no, 2])
        t.landing = schedule_landings(rng, t.spec, t.versions, t.no)
        t.v0_ms = (window.start - INITIAL_LOAD_BEFORE) * 1000 + t.no * 20_000
        t.sink0 = initial_sink_ms(rng, t.spec, t.versions, t.v0_ms)
        apply_warts(rng, t.spec, t.versions, t.landing)
    for t in tables.values():
        record_basics(np.random.default_rng([seed, t.no, 3]), t)
    for t in tables.values():
        assign_partitions(t)
        build_columns(np.random.default_rng([seed, t.no, 4]), t, tables)
    return tables


def main(argv: list[str] | None = None) -> int:
    """``python -m kit sample DEST ...``: argv holds the arguments after ``sample``."""
    parser = argparse.ArgumentParser(prog="python -m kit sample",
                                     description="Write the simulated Dataverse lake and its TRUTH.json.")
    parser.add_argument("dest", help="folder to write (empty, new, or a previous sample lake)")
    parser.add_argument("--days", type=int, default=28, help="days of activity (default 28)")
    parser.add_argument("--scale", type=float, default=1.0, help="activity multiplier (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--layout", choices=LAYOUTS, default="synapse", help="lake layout (default synapse)")
    args = parser.parse_args(argv)
    truth = generate(args.dest, days=args.days, scale=args.scale, seed=args.seed, layout=args.layout)
    busy = truth["busy_table"]
    print(f"sample lake written to {args.dest}: {len(truth['tables'])} tables; busiest "
          f"{busy['table']} peaks at {busy['peak_day_events']:,} changes on {busy['peak_day']}")
    return 0
