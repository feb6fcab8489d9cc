"""JSON and CSV result files.

JSON output is strict (RFC 8259): NaN and Infinity are not JSON, so
:func:`strict_json` replaces every non-finite number by ``null`` and reports
where it did, and the caller adds a ``warnings`` entry saying why
(``zprime_jax.cli.main`` does this for every command). NumPy scalars and
arrays become plain numbers and lists.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np


def strict_json(obj, path: str = "") -> tuple[object, list[str]]:
    """``obj`` with non-finite numbers replaced by None; returns (clean object, JSON paths replaced).

    Paths look like ``limits[3].coupling``. Tuples become lists, NumPy values
    Python ones; anything else that JSON cannot hold raises TypeError.
    """
    replaced: list[str] = []

    def clean(x, where):
        if isinstance(x, dict):
            return {str(k): clean(v, f"{where}.{k}" if where else str(k)) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v, f"{where}[{i}]") for i, v in enumerate(x)]
        if isinstance(x, np.ndarray):
            return clean(x.tolist(), where)
        if isinstance(x, np.generic):
            x = x.item()
        if isinstance(x, float) and not math.isfinite(x):
            replaced.append(where)
            return None
        if x is None or isinstance(x, bool | int | float | str):
            return x
        raise TypeError(f"{where or 'output'}: {type(x).__name__} is not JSON")

    return clean(obj, path), replaced


def strict_result(result: dict) -> dict:
    """A result as strict JSON: every non-finite number null, beside a ``warnings`` entry naming its path.

    Results explain their own missing values (a limit not reached, ...: a warning that starts with the
    value's path); this catches whatever else is not finite, so that no null goes unexplained, and none is
    explained twice.
    """
    clean, replaced = strict_json(result)
    own = clean.get("warnings") or []
    unexplained = [where for where in replaced             # a result's own warning naming the path explains it
                   if not any(w.startswith((f"{where} ", f"{where}:")) for w in own)]
    if unexplained:
        clean.setdefault("warnings", []).extend(
            f"{where}: not a finite number (the computation gave no value there); reported as null"
            for where in unexplained)
    return clean


def dumps_json(obj, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (raises ValueError on a non-finite number: clean it first)."""
    return json.dumps(obj, indent=indent, allow_nan=False)


def write_json(path: str | Path, result: dict) -> str:
    """Write a result as strict, indented JSON (:func:`strict_result`); returns the path."""
    Path(path).write_text(dumps_json(strict_result(result), indent=1))
    return str(path)


def write_csv(path: str | Path, header: list[str], rows) -> str:
    """Write a CSV file with a header row; returns the path."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)
