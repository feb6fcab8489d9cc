"""``--shard I/N`` and ``zprime-jax merge``: one scan command split over batch jobs, merged into what the
whole command writes.

A scan command runs its scans through :func:`split` (each a function of the rows it is to compute:
the mass rows of a grid, the masses of the limits and of the toys, the cos beta rows of a plane, the
values of a limit scan).

- Whole (no ``--shard``): every row, as always.
- Part ``I/N``: the contiguous block ``[(I-1) n / N, I n / N)`` of the rows of every scan, each row by the
  very program of the whole scan (``sharding.sharded_map(part=...)``), so bit-identical to it; the
  other rows are NaN. Everything that is not a scan (kernels, Asimov data, a best fit) is computed by
  every part. Nothing of the command's own output is written: ``--out`` receives
  ``shard-I-of-N.json`` (the settings, a SHA-256 of the inputs, the rows of each scan) and
  ``shard-I-of-N.npz`` (the rows).
- Merge: the command runs again from the settings of the parts, each scan taking its rows from the parts
  instead of computing them, so it writes exactly what the whole command writes (timings: the parts'
  sums). Where a run reports (``--out``, ``--hepdata``, ``--json``, ...) is not part of the settings:
  the merge writes the whole command's HEPData submission into its own ``--hepdata DIR``, else into
  the folder the parts' ``--hepdata`` named. :func:`load_parts` first checks that the parts belong
  together (same command, same inputs: files hashed again now, same N) and are complete (every I from 1
  to N once).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from pathlib import Path

import numpy as np

from .options import UsageError, input_files

FORMAT = "zprime-jax-shard/1"
MAX_SHARDS = 100_000
ADDITIVE = ("compile_s", "run_s", "refined", "toys")    # per-part counts and timings: summed by the merge
# options that say where and how a run reports, not what it computes: left out of the settings hash
_REPORTING = {"--shard": 1, "--out": 1, "--hepdata": 1, "--json": 0, "--quiet": 0, "--coordinator": 1,
              "--num-processes": 1, "--process-id": 1}


def add_shard(sp) -> None:
    """``--shard I/N``: this run computes part I (1-based) of N of every scan (a batch-farm array job)."""
    sp.add_argument("--shard", type=_shard, metavar="I/N",
                    help="compute part I of N (1-based) of every scan and write it to --out as "
                         "shard-I-of-N.json/.npz; 'zprime-jax merge' joins the parts into the whole output")


def _shard(text: str) -> tuple[int, int]:
    import argparse

    i, sep, n = text.partition("/")
    if not sep or not i.strip().isdigit() or not n.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected I/N (part I of N, 1-based), got {text!r}")
    i, n = int(i), int(n)
    if not 1 <= n <= MAX_SHARDS or not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N <= {MAX_SHARDS}, got {text!r}")
    return i, n


def rows_of(index: int, count: int, n: int) -> slice:
    """The rows of part ``index`` (1-based) of ``count`` of a scan of ``n`` rows: a contiguous, balanced block."""
    return slice((index - 1) * n // count, index * n // count)


class _Role:
    """How a run treats its scans: whole, one part (recording), or a merge (replaying the parts)."""

    def __init__(self, part: tuple[int, int] | None = None, replay: list | None = None):
        self.part, self.replay, self.records = part, replay, []

    def split(self, label: str, n: int, compute):
        if self.replay is not None:
            k = len(self.records)
            if k >= len(self.replay) or self.replay[k]["label"] != label or self.replay[k]["n"] != n:
                raise UsageError(f"merge: the parts do not hold scan {k + 1} ({label!r}, {n} rows) of this command "
                                 "(made by another version of zprime-jax?)")
            self.records.append(self.replay[k])
            return self.replay[k]["value"]
        if self.part is None:
            return compute(None)
        rows = rows_of(*self.part, n)
        value = compute(rows)
        self.records.append({"label": label, "n": n, "rows": rows, "value": value})
        return value


def _role(args) -> _Role:
    if getattr(args, "_shard_role", None) is None:
        args._shard_role = _Role(part=getattr(args, "shard", None))
    return args._shard_role


def split(args, label: str, n: int, compute):
    """The result of one scan of ``n`` rows: ``compute(rows)`` (rows: None for all, else a slice) in a whole
    or part run, or the parts' rows in a merge. Every scan of a command goes through here, in a fixed order."""
    return _role(args).split(label, n, compute)


def is_part(args) -> bool:
    """This run computes one part (``--shard``)."""
    return _role(args).part is not None


def writes(args, folder: str = "out") -> bool:
    """The command writes into its ``--out`` (``folder="hepdata"``: its ``--hepdata`` submission): it was
    given the folder, runs whole (or merges), and is the lead process (under ``jax.distributed`` every
    process computes, process 0 writes)."""
    from ..config import is_lead_process

    return getattr(args, folder, None) is not None and not is_part(args) and is_lead_process()


# --- the inputs' fingerprint -------------------------------------------------------------------------------
def settings_of(argv: list[str]) -> list[str]:
    """The command line without the options that only say where and how the run reports."""
    out, skip = [], 0
    for token in argv:
        if skip:
            skip -= 1
            continue
        name = token.split("=", 1)[0]
        if name in _REPORTING:
            skip = 0 if "=" in token else _REPORTING[name]
            continue
        out.append(token)
    return out


def inputs_hash(settings: list[str]) -> str:
    """SHA-256 of the settings, the package version and the bytes of every file they name."""
    from .. import __version__

    h = hashlib.sha256(json.dumps({"version": __version__, "settings": settings}).encode())
    for token in settings:
        path = Path(token.split("=", 1)[-1])
        if path.suffix and path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


# --- the part files ----------------------------------------------------------------------------------------
def _encode(value, rows: slice, n: int, arrays: dict, path: str):
    """A JSON tree of ``value`` (row leaves cut to ``rows``), its arrays put into ``arrays``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"dataclass": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode(getattr(value, f.name), rows, n, arrays, f"{path}.{f.name}")
                           for f in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v, rows, n, arrays, f"{path}.{k}") for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        per_row = value.ndim >= 1 and value.shape[0] == n
        arrays[key] = value[rows] if per_row else value
        return {"rows" if per_row else "array": key}
    if isinstance(value, list | tuple):
        if len(value) == n:
            return {"row_list": list(value[rows])}
        return {"list": [_encode(v, rows, n, arrays, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, np.generic):
        return {"value": value.item()}
    if value is None or isinstance(value, bool | int | float | str):
        return {"value": value}
    raise TypeError(f"shards: cannot store {type(value).__name__} at {path}")


def _numpy_json(obj):
    """``json.dumps`` default: NumPy values inside the row lists as Python ones (NaN kept: internal file)."""
    if isinstance(obj, np.ndarray | np.generic):
        return obj.tolist()
    raise TypeError(f"shards: {type(obj).__name__} is not JSON")


def write_part(args, argv: list[str]) -> dict:
    """Write this part's rows of every scan into --out; returns the command's JSON summary of the part."""
    from ..config import is_lead_process
    from ..io import write_json
    from .options import out_dir

    index, count = args.shard
    role = _role(args)
    settings = settings_of(argv)
    arrays, scans = {}, []
    for rec in role.records:
        rows = rec["rows"]
        scans.append({"label": rec["label"], "n": rec["n"], "rows": [rows.start, rows.stop],
                      "tree": _encode(rec["value"], rows, rec["n"], arrays, rec["label"])})
    stem = f"shard-{index}-of-{count}"
    folder = out_dir(args.out)
    manifest = {"format": FORMAT, "shard": [index, count], "command": settings[0], "settings": settings,
                "inputs_sha256": inputs_hash(settings), "hepdata": getattr(args, "hepdata", None),
                "scans": [{k: s[k] for k in ("label", "n", "rows")} for s in scans]}
    files = {}
    if is_lead_process():
        arrays["tree"] = np.asarray(json.dumps([s["tree"] for s in scans], default=_numpy_json))
        np.savez(folder / f"{stem}.npz", **arrays)
        files = {"manifest": write_json(folder / f"{stem}.json", manifest), "rows": str(folder / f"{stem}.npz")}
    return {"shard": manifest["shard"], "command": manifest["command"], "inputs_sha256": manifest["inputs_sha256"],
            "scans": manifest["scans"], "files": files}


def _decode(trees: list, parts: list, field: str = ""):
    """The whole value from the parts' trees (row leaves joined in part order; counts and timings summed)."""
    first = trees[0]
    if "dataclass" in first:
        module, _, name = first["dataclass"].partition(":")
        if not module.startswith("zprime_jax."):
            raise UsageError(f"merge: the parts name a class outside zprime_jax ({first['dataclass']})")
        cls = getattr(importlib.import_module(module), name)
        return cls(**{k: _decode([t["fields"][k] for t in trees], parts, k) for k in first["fields"]})
    if "dict" in first:
        return {k: _decode([t["dict"][k] for t in trees], parts, k) for k in first["dict"]}
    if "rows" in first:
        return np.concatenate([npz[t["rows"]] for t, npz in zip(trees, parts)])
    if "array" in first:
        return parts[0][first["array"]]
    if "row_list" in first:
        return [v for t in trees for v in t["row_list"]]
    if "list" in first:
        return [_decode([t["list"][i] for t in trees], parts) for i in range(len(first["list"]))]
    if field in ADDITIVE:
        return sum(t["value"] for t in trees)
    return first["value"]


def load_parts(paths: list[str]) -> tuple[list[str], list, set]:
    """(settings, scans, the parts' --hepdata folders) of the complete, consistent parts named by ``paths``
    (folders or shard JSON files)."""
    files = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(path.glob("shard-*-of-*.json"))
            if not found:
                raise UsageError(f"PARTS: no shard-I-of-N.json in {p}")
            files += found
        else:
            input_files([p], "PARTS")
            files.append(path)
    manifests = []
    for f in files:
        try:
            m = json.loads(f.read_text())
        except (OSError, ValueError) as err:
            raise UsageError(f"PARTS: {f} is not a shard manifest ({err})") from None
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise UsageError(f"PARTS: {f} is not a {FORMAT} manifest")
        manifests.append((f, m))
    f0, m0 = manifests[0]
    count = m0["shard"][1]
    for f, m in manifests[1:]:
        for key, what in (("settings", "command lines"), ("inputs_sha256", "inputs")):
            if m[key] != m0[key]:
                raise UsageError(f"PARTS: {f} and {f0} come from different runs (their {what} differ)")
        if m["shard"][1] != count:
            raise UsageError(f"PARTS: {f} is a part of {m['shard'][1]}, {f0} of {count}")
    seen = {}
    for f, m in manifests:
        i = m["shard"][0]
        if i in seen:
            raise UsageError(f"PARTS: part {i} of {count} given twice ({seen[i]} and {f})")
        seen[i] = f
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise UsageError(f"PARTS: incomplete: parts {missing} of {count} are missing")
    if inputs_hash(m0["settings"]) != m0["inputs_sha256"]:
        raise UsageError("PARTS: the inputs have changed since the parts were computed (a file named on the "
                         "command line, or the zprime-jax version)")
    ordered = [m for _, m in sorted(manifests, key=lambda fm: fm[1]["shard"][0])]
    npz = [np.load(seen[m["shard"][0]].with_suffix(".npz")) for m in ordered]
    trees = [json.loads(str(z["tree"])) for z in npz]
    scans = []
    for k, scan in enumerate(m0["scans"]):
        for i, m in enumerate(ordered, start=1):
            rows = rows_of(i, count, scan["n"])
            if m["scans"][k]["label"] != scan["label"] or m["scans"][k]["rows"] != [rows.start, rows.stop]:
                raise UsageError(f"PARTS: part {i} does not hold rows {rows.start}-{rows.stop} of {scan['label']!r}")
        scans.append({"label": scan["label"], "n": scan["n"],
                      "value": _decode([t[k] for t in trees], npz)})
    return m0["settings"], scans, {m.get("hepdata") for m in ordered} - {None}


def replaying(args, scans: list) -> None:
    """Make ``args``' command take its scans from the parts."""
    args._shard_role = _Role(replay=scans)


def register(subparsers) -> None:
    """Add the ``merge`` subcommand."""
    from .options import add_common, add_hepdata

    sp = subparsers.add_parser("merge", help="join the parts of a --shard I/N scan into the whole command's output")
    add_common(sp)
    sp.add_argument("parts", nargs="+", metavar="PARTS",
                    help="the parts: folders written by the --shard runs (or their shard-I-of-N.json files)")
    sp.add_argument("--out", required=True, help="folder for what the whole command writes")
    add_hepdata(sp)
    sp.set_defaults(func=cmd_merge)


def cmd_merge(args):
    """Check the parts, then run their command again with its scans taken from them."""
    from .main import run_again

    settings, scans, hepdata = load_parts(args.parts)
    if args.hepdata is None and len(hepdata) > 1:
        raise UsageError(f"--hepdata: the parts name different --hepdata folders ({', '.join(sorted(hepdata))}); "
                         "give the merge its own --hepdata DIR")
    inner = run_again(settings, args.out, args.json, args.quiet, args.hepdata or next(iter(hepdata), None))
    replaying(inner, scans)
    out = inner.func(inner)
    if len(inner._shard_role.records) != len(scans):
        raise UsageError(f"merge: the parts hold {len(scans)} scans, the command made "
                         f"{len(inner._shard_role.records)} (made by another version of zprime-jax?)")
    return out
