"""Observed (non-Asimov) binned counts: reading, validation, best fit and exclusion reference.

File formats (one experiment per file; counts per reconstructed-energy bin of
the experiment's kernel, in the kernel's bin order):

* CSV: a header naming the columns ``count`` (required) and optionally
  ``lo_kev, hi_kev`` (both or neither: the bin edges [keV], checked against
  the kernel's), one row per bin; or a single column of counts with or
  without a ``count`` header. Blank lines and lines starting with ``#`` are
  skipped.
* JSON: ``{"experiment": NAME, "counts": [...], "edges_kev": [...]}`` where
  ``experiment`` (checked against ``kernel.name``) and ``edges_kev`` (B + 1
  edges [keV], checked to 1e-6 relative) are optional and ``"comment"`` is
  ignored; or a bare list of counts.

Counts must be finite and >= 0. **Non-integer counts are accepted without a
warning**: the Poisson deviance of eq. 4.1, 2[mu - n + n ln(n/mu)], is defined
for real n, and Asimov data sets, background-subtracted or
efficiency-corrected spectra are non-integer by construction.

The statistics with observed data (best fit, exclusion relative to it) are in
:mod:`zprime_jax.inference.fit`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ..errors import InputError

EDGE_RTOL = 1e-6
CSV_COLUMNS = ("lo_kev", "hi_kev", "count")
JSON_KEYS = ("experiment", "counts", "edges_kev", "comment")


def _edges_text(kernel) -> str:
    edges = np.asarray(kernel.edges_kev, dtype=float)
    return f"{edges.size} bin edges from {edges[0]:.6g} to {edges[-1]:.6g} keV"


def check_counts(counts, kernel, where: str = "counts", field: str = "counts") -> np.ndarray:
    """Validate binned counts for ``kernel``; return them as float64 (B,).

    Raises ValueError naming ``where`` (e.g. the file) and ``field`` for a
    wrong number of bins, non-finite or negative counts.
    """
    try:
        arr = np.asarray(counts, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputError(f"{where}: {field}: not a list of numbers ({err})") from None
    name = getattr(kernel, "name", "") or "the experiment"
    if arr.ndim != 1 or arr.size != kernel.n_bins:
        got = arr.size if arr.ndim == 1 else f"an array of shape {arr.shape}"
        raise InputError(f"{where}: {field}: expected {kernel.n_bins} bins for {name!r} "
                         f"({_edges_text(kernel)}), got {got}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{where}: {field}: counts must be finite; bins {np.flatnonzero(bad).tolist()} are not")
    neg = arr < 0
    if neg.any():
        raise InputError(f"{where}: {field}: counts must be >= 0; bins {np.flatnonzero(neg).tolist()} are "
                         f"negative ({arr[neg].tolist()})")
    return arr


def _check_edges(edges, kernel, where: str, field: str) -> None:
    ref = np.asarray(kernel.edges_kev, dtype=float)
    arr = np.asarray(edges, dtype=float)
    if arr.shape != ref.shape:
        raise InputError(f"{where}: {field}: expected {_edges_text(kernel)} for {kernel.name!r}, "
                         f"got {arr.size} values")
    if not np.all(np.isfinite(arr)) or not np.allclose(arr, ref, rtol=EDGE_RTOL, atol=0.0):
        i = int(np.argmax(~np.isclose(arr, ref, rtol=EDGE_RTOL, atol=0.0)))
        raise InputError(f"{where}: {field}: edge {i} is {arr[i]!r} keV but {kernel.name!r} has "
                         f"{ref[i]!r} keV (relative tolerance {EDGE_RTOL:g}; {_edges_text(kernel)})")


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def _read_csv(path: Path, kernel) -> np.ndarray:
    with open(path, newline="") as fh:
        rows = [[c.strip() for c in row] for row in csv.reader(fh)
                if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise InputError(f"{path}: count: the file has no data rows")
    header = None
    if any(_number(c) is None for c in rows[0]):
        header = [c.lower() for c in rows[0]]
        rows = rows[1:]
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise InputError(f"{path}: columns: unknown column(s) {unknown}; allowed: {list(CSV_COLUMNS)}")
        dup = sorted({c for c in header if header.count(c) > 1})
        if dup:
            raise InputError(f"{path}: columns: repeated column(s) {dup}")
        if "count" not in header:
            raise InputError(f"{path}: count: required column missing (header: {header})")
        if ("lo_kev" in header) != ("hi_kev" in header):
            raise InputError(f"{path}: lo_kev/hi_kev: give both bin-edge columns or neither (header: {header})")
    else:
        if len(rows[0]) != 1:
            raise InputError(f"{path}: columns: {len(rows[0])} columns without a header; give a header "
                             f"naming them ({list(CSV_COLUMNS)}) or a single column of counts")
        header = ["count"]
    table = {c: [] for c in header}
    for i, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise InputError(f"{path}: columns: data row {i} has {len(row)} values for {len(header)} "
                             f"columns {header}")
        for c, text in zip(header, row):
            value = _number(text)
            if value is None:
                raise InputError(f"{path}: {c}: data row {i}: {text!r} is not a number")
            table[c].append(value)
    counts = check_counts(table["count"], kernel, str(path), "count")
    if "lo_kev" in table:
        lo, hi = np.asarray(table["lo_kev"]), np.asarray(table["hi_kev"])
        if lo.size > 1 and not np.allclose(lo[1:], hi[:-1], rtol=EDGE_RTOL, atol=0.0):
            raise InputError(f"{path}: lo_kev/hi_kev: bins are not contiguous (each lo_kev must equal "
                             f"the previous hi_kev)")
        _check_edges(np.append(lo, hi[-1]), kernel, str(path), "lo_kev/hi_kev")
    return counts


def _json_numbers(values, path: Path, field: str):
    if not isinstance(values, list):
        raise InputError(f"{path}: {field}: expected a list of numbers, got {type(values).__name__}")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InputError(f"{path}: {field}: element {i} ({v!r}) is not a number")
    return values


def _read_json(path: Path, kernel) -> np.ndarray:
    try:
        obj = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    if isinstance(obj, list):
        return check_counts(_json_numbers(obj, path, "counts"), kernel, str(path), "counts")
    if not isinstance(obj, dict):
        raise InputError(f"{path}: counts: expected an object with 'counts' or a list of counts, "
                         f"got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(JSON_KEYS))
    if unknown:
        raise InputError(f"{path}: keys: unknown key(s) {unknown}; allowed: {list(JSON_KEYS)}")
    if "counts" not in obj:
        raise InputError(f"{path}: counts: required key missing")
    exp = obj.get("experiment")
    if exp is not None and kernel.name and exp != kernel.name:
        raise InputError(f"{path}: experiment: the file is for {exp!r} but the analysis uses {kernel.name!r}")
    counts = check_counts(_json_numbers(obj["counts"], path, "counts"), kernel, str(path), "counts")
    if obj.get("edges_kev") is not None:
        _check_edges(_json_numbers(obj["edges_kev"], path, "edges_kev"), kernel, str(path), "edges_kev")
    return counts


def load_observed_counts(path, kernel) -> np.ndarray:
    """Binned counts for ``kernel`` from a CSV or JSON file (format: module docstring).

    JSON is recognised by the ``.json`` suffix or, for any other suffix, by a
    first non-blank character ``[`` or ``{``; everything else is CSV.

    Returns: float64 array (B,) of counts per bin. Raises ValueError naming
    the file and the offending field.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not a text file (CSV or JSON): byte {err.start} is not UTF-8") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read the data file ({err.strerror or err})") from None
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        return _read_json(path, kernel)
    return _read_csv(path, kernel)


def write_counts_csv(path, counts, kernel) -> Path:
    """Write counts with their bin edges as ``lo_kev,hi_kev,count`` (readable by :func:`load_observed_counts`)."""
    edges = np.asarray(kernel.edges_kev, dtype=float)
    counts = check_counts(counts, kernel, str(path))
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for lo, hi, n in zip(edges[:-1], edges[1:], counts):
            w.writerow([repr(float(lo)), repr(float(hi)), repr(float(n))])
    return Path(path)


def write_counts_json(path, counts, kernel) -> Path:
    """Write ``{"experiment", "counts", "edges_kev"}`` JSON (readable by :func:`load_observed_counts`)."""
    counts = check_counts(counts, kernel, str(path))
    obj = {"experiment": kernel.name, "counts": counts.tolist(),
           "edges_kev": np.asarray(kernel.edges_kev, dtype=float).tolist()}
    Path(path).write_text(json.dumps(obj, indent=1))
    return Path(path)
