"""The published limits the throughput analysis checks against, and what one change costs.

The limits live in ``kit/limits.json`` (figure, window, source URL and date for each); callers
may pass their own (see ``load_limits``). LIMITS.md gives the sources.
"""

from __future__ import annotations

import copy
import json
import math
import os
from numbers import Real

import pandas as pd

from ..errors import KitError
from ..settings import LIMITS_FILE

LIMIT_FIELDS = ("id", "name", "figure", "unit", "window_seconds", "applies_to", "cost_per_event", "source", "as_of")


def load_limits(limits=None) -> list[dict]:
    """The limit entries in force: ``kit/limits.json`` unless ``limits`` overrides them (see
    ``throughput``). Validated: a KitError says what is wrong."""
    if limits is None or isinstance(limits, (str, os.PathLike)):
        entries = _read_limits_file(LIMITS_FILE if limits is None else os.fspath(limits))
    elif isinstance(limits, dict):
        entries = _read_limits_file(LIMITS_FILE)
        by_id = {e["id"]: e for e in entries}
        for key, value in limits.items():
            if isinstance(value, Real) and not isinstance(value, bool):
                if key not in by_id:
                    raise KitError(
                        f"limits={{{key!r}: {value!r}}}: no limit {key!r} to override. Known limits: "
                        f"{', '.join(by_id)}; a new limit needs a complete entry ({', '.join(LIMIT_FIELDS)})."
                    )
                by_id[key]["figure"] = value
            elif isinstance(value, dict):
                if key in by_id:
                    by_id[key].update(value)
                else:
                    entry = {"id": key, **value}
                    entries.append(entry)
                    by_id[key] = entry
            else:
                raise KitError(f"limits[{key!r}] must be a number (the figure) or a dict of fields, not {value!r}.")
    elif isinstance(limits, (list, tuple)):
        entries = copy.deepcopy(list(limits))
    else:
        raise KitError(
            f"limits must be None, a path to a limits JSON file, a list of limit entries or a dict of "
            f"overrides by id, not {type(limits).__name__}."
        )
    _validate(entries)
    return entries


def limits_table(limits=None) -> pd.DataFrame:
    """The limits in force, one row each: ``id``, ``name``, ``figure``, ``unit``,
    ``window_seconds``, ``applies_to`` (comma-separated patterns), ``cost_per_event``,
    ``binding``, ``source`` (URL), ``as_of`` (date the figure was taken), ``note``."""
    rows = []
    for e in load_limits(limits):
        rows.append({
            "id": e["id"], "name": e["name"], "figure": float(e["figure"]), "unit": e["unit"],
            "window_seconds": int(e["window_seconds"]), "applies_to": ", ".join(e["applies_to"]),
            "cost_per_event": str(e["cost_per_event"]), "binding": bool(e.get("binding", False)),
            "source": e["source"], "as_of": e["as_of"], "note": e.get("note", ""),
        })
    return pd.DataFrame(rows)


def _read_limits_file(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise KitError(f"No limits file at {path!r}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KitError(f"Cannot read the limits file {path!r}: {getattr(exc, 'strerror', None) or exc}.") from None
    except json.JSONDecodeError as exc:
        raise KitError(f"The limits file {path!r} is not valid JSON ({exc}).") from None
    entries = data.get("limits") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise KitError(f"The limits file {path!r} must hold a list of limits (or {{\"limits\": [...]}}).")
    return copy.deepcopy(entries)


def _validate(entries: list[dict]) -> None:
    if not entries:
        raise KitError("No limits to check against: pass at least the binding daily limit.")
    seen = set()
    for e in entries:
        if not isinstance(e, dict):
            raise KitError(f"A limit must be a dict of fields, not {e!r}.")
        missing = [f for f in LIMIT_FIELDS if f not in e]
        if missing:
            raise KitError(f"Limit {e.get('id', '?')!r} lacks the field(s) {', '.join(missing)}.")
        if e["id"] in seen:
            raise KitError(f"Limit {e['id']!r} appears twice.")
        seen.add(e["id"])
        if not positive(e["figure"]):
            raise KitError(f"Limit {e['id']!r}: figure must be a positive number, not {e['figure']!r}.")
        if not (isinstance(e["window_seconds"], int) and not isinstance(e["window_seconds"], bool) and e["window_seconds"] >= 1):
            raise KitError(f"Limit {e['id']!r}: window_seconds must be a whole number of seconds >= 1, not {e['window_seconds']!r}.")
        cost = e["cost_per_event"]
        if cost != "actions_per_record" and not positive(cost):
            raise KitError(f"Limit {e['id']!r}: cost_per_event must be a positive number or 'actions_per_record', not {cost!r}.")
        if isinstance(e["applies_to"], str):
            e["applies_to"] = [e["applies_to"]]
    binding = [e["id"] for e in entries if e.get("binding")]
    if len(binding) != 1:
        raise KitError(
            f"Exactly one limit must be binding (it decides the pattern); found {len(binding)}"
            f"{': ' + ', '.join(binding) if binding else ''}."
        )


def positive(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def cost(entry: dict, actions_per_record: float) -> float:
    """What one change costs in the limit's unit (``cost_per_event``, or the actions per record)."""
    value = entry["cost_per_event"]
    return float(actions_per_record) if value == "actions_per_record" else float(value)


def events_per_window(limits=None, window_seconds: int = 300, actions_per_record: float = 5,
                      applies_to: str = "Power Automate") -> list[tuple[dict, float]]:
    """The limits over ``window_seconds`` that constrain ``applies_to``, each with the changes
    it lets through per window (its figure divided by what one change costs), fewest first."""
    out = []
    for e in load_limits(limits):
        if int(e["window_seconds"]) != int(window_seconds) or applies_to not in e.get("applies_to", []):
            continue
        out.append((e, float(e["figure"]) / cost(e, actions_per_record)))
    return sorted(out, key=lambda x: x[1])
