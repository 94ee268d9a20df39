"""A lake as it was at an earlier moment, vacuumed as of then: for trying a store's collects.

``replay(full, dest, until, feed_kept=timedelta(days=1))`` makes ``dest`` the lake ``full`` (a
sample written with ``generate(..., vacuum=False)``, which keeps every file) was at ``until``:
the commits made by then, and the files a nightly ``VACUUM`` keeping ``feed_kept`` leaves: a
data file removed from the table more than ``feed_kept`` before ``until`` is gone, and so is a
change data file committed before then. Calling it again with a later ``until`` moves ``dest``
forward (new commits and files appear, vacuumed ones disappear), as a live lake does between two
runs of a scheduled collect. Files are hard links into ``full`` where the file system allows
(copies otherwise), so each step costs little; commit files keep their modification times.
Checkpoints up to the last commit shown are kept (readers find them by listing the log; no
``_last_checkpoint`` hint is written), so opening a replayed table costs what it costs on the
live lake.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

__all__ = ["replay"]


def replay(full, dest, until: datetime, *, feed_kept: timedelta = timedelta(days=1)) -> None:
    """Make ``dest`` the lake ``full`` at ``until`` (UTC), vacuumed to keep ``feed_kept``."""
    full, dest = Path(full), Path(dest)
    until_ms = int(until.astimezone(timezone.utc).timestamp() * 1000)
    cutoff_ms = until_ms - int(feed_kept.total_seconds() * 1000)
    for log in sorted(full.rglob("_delta_log")):
        _replay_table(log.parent, dest / log.parent.relative_to(full), until_ms, cutoff_ms)


def _commit_ms(path: Path, actions: list[dict]) -> int:
    for a in actions:
        info = a.get("commitInfo")
        if info and info.get("timestamp"):
            return int(info["timestamp"])
    return int(path.stat().st_mtime * 1000)


def _replay_table(src: Path, dst: Path, until_ms: int, cutoff_ms: int) -> None:
    commits = sorted(p for p in (src / "_delta_log").glob("*.json") if p.stem.isdigit())
    keep_logs, wanted = [], {}
    removed_at: dict[str, int] = {}
    for path in commits:
        actions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        ms = _commit_ms(path, actions)
        if ms > until_ms:
            break
        keep_logs.append(path)
        for a in actions:
            if "add" in a:
                wanted[a["add"]["path"]] = None
                removed_at.pop(a["add"]["path"], None)
            elif "remove" in a:
                removed_at[a["remove"]["path"]] = ms
            elif "cdc" in a and ms >= cutoff_ms:
                wanted[a["cdc"]["path"]] = None
    if not keep_logs:
        return
    files = {p for p in wanted if removed_at.get(p, cutoff_ms) >= cutoff_ms}
    (dst / "_delta_log").mkdir(parents=True, exist_ok=True)
    last = int(keep_logs[-1].stem)
    for path in keep_logs:
        _link(path, dst / "_delta_log" / path.name)
    for path in (src / "_delta_log").glob("*.checkpoint*.parquet"):
        if int(path.name[:20]) <= last:
            _link(path, dst / "_delta_log" / path.name)
    for rel in files:
        _link(src / unquote(rel), dst / unquote(rel))
    keep = {(dst / unquote(rel)).resolve() for rel in files}
    for path in dst.rglob("*.parquet"):
        if "_delta_log" not in path.parts and path.resolve() not in keep:
            path.unlink()


def _link(src: Path, dst: Path) -> None:
    if dst.exists() or not src.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
