"""HEPData submissions (https://hepdata.net): the one writer, built with ``hepdata_lib``.

A command describes its results as :class:`HepTable` s (columns with names and units, qualifiers, a
description) and :func:`write_submission` turns them into a HEPData submission folder: ``submission.yaml``
and one ``<table>.yaml`` per table, validated by ``hepdata_validator``'s full-submission validator (through
``hepdata_lib``'s ``Submission.create_files``) before anything is put into the folder.

Conventions:

- A value that does not exist (a mass with no limit in range) is ``None`` and written as ``"-"``, HEPData's
  mark for "no value"; the table's description must say why. A NaN or an infinity is refused
  (``ValueError``): nothing non-finite is written silently.
- Numbers keep :data:`DIGITS` significant digits (``hepdata_lib`` rounds to 5 by default).
- The folder holds only the submission (the validator refuses unreferenced files): it must be new, empty,
  or an earlier submission, which is replaced (:func:`check_folder`, called again before writing).
- The ``.tar.gz`` archive that ``hepdata_lib`` makes for the validation is left out (``tar czf`` the folder
  to upload it); nothing is written outside the folder.
"""

from __future__ import annotations

import contextlib
import gc
import math
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

DIGITS = 10                 # significant digits written (the JSON output has all 17)
MISSING = "-"               # HEPData's "no value"
MAX_NAME = 64               # hepdata_lib's limit on a table name


@dataclass(frozen=True)
class Column:
    """One variable of a table: a name, its units (``""``: dimensionless) and its values.

    ``values``: numbers, strings (an independent variable may be a label, e.g. an experiment) or None
    (no value: written as ``"-"``). ``qualifiers``: (name, value, units) of a dependent variable (the
    CL, the model, ...). ``errors``: symmetric 1 sigma errors of a dependent variable (same length), or None.
    """

    name: str
    units: str
    values: Sequence
    qualifiers: tuple = ()
    errors: Sequence | None = None
    error_label: str = "1 sigma"


@dataclass(frozen=True)
class HepTable:
    """One HEPData table: ``independent`` and ``dependent`` columns of equal length, and a description.

    ``name``: short title (made file-safe and unique by :func:`write_submission`); ``location``: where the
    result comes from (a command, a paper's figure).
    """

    name: str
    description: str
    independent: tuple[Column, ...]
    dependent: tuple[Column, ...]
    location: str = "zprime-jax"
    keywords: dict = field(default_factory=dict)


def qualifiers(*, cl: float | None = None, delta_chi2: float | None = None, model: str | None = None,
               experiments: Sequence[str] | None = None, likelihoods: dict | None = None,
               **extra) -> tuple[tuple[str, object, str], ...]:
    """The standard qualifiers of a result: CL [%], Delta chi^2 level, model, experiments, likelihood forms,
    the ``zprime_jax`` version, and ``extra`` (name -> value, or name -> (value, units))."""
    from .. import __version__

    out = []
    if cl is not None:
        out.append(("CL", f"{100 * cl:.6g}%", ""))
    if delta_chi2 is not None:
        out.append(("Delta chi2", _number(delta_chi2, "Delta chi2"), ""))
    if model is not None:
        out.append(("model", str(model), ""))
    if experiments is not None:
        out.append(("experiments", experiments if isinstance(experiments, str) else ", ".join(experiments), ""))
    if likelihoods:
        out.append(("likelihoods", ", ".join(f"{n}: {f}" for n, f in likelihoods.items()), ""))
    for name, value in extra.items():
        value, units = value if isinstance(value, tuple) else (value, "")
        out.append((name.replace("_", " "), value if isinstance(value, str) else _number(value, name), units))
    out.append(("zprime_jax version", __version__, ""))
    return tuple(out)


def missing_note(warnings: Sequence[str], what: str, missing: Sequence[str], preposition: str = "at") -> str:
    """A table description's sentence on the values written as ``-``: ``what`` is missing ``preposition`` each
    of ``missing``, with the command's reasons (its warnings about null values); '' where nothing is missing."""
    if not missing:
        return ""
    reasons = [w for w in warnings if "null" in w]
    return (f" '-': no {what} {preposition} {', '.join(missing)}" + (": " + "; ".join(reasons) if reasons else "")
            + ("." if not reasons or not reasons[-1].endswith(".") else ""))


def paper_link(paper: str) -> tuple[str, str]:
    """(description, URL) of one of the papers (``"light"``, ``"heavy"``; :mod:`zprime_jax.papers.published`)
    for :func:`write_submission`'s ``links``."""
    from ..papers import published

    return published.citation(paper), f"https://arxiv.org/abs/{published.arxiv(paper)}"


def _number(x, where: str):
    """A finite float (an int stays an int); ValueError naming ``where`` otherwise."""
    if isinstance(x, bool) or not isinstance(x, int | float) and not hasattr(x, "__float__"):
        raise ValueError(f"hepdata: {where}: {x!r} is not a number")
    if isinstance(x, int):
        return x
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"hepdata: {where}: {x} is not finite (give None for a missing value, and say why "
                         "in the table's description)")
    return x


def _values(col: Column, table: str) -> list:
    return [MISSING if v is None else v if isinstance(v, str) else _number(v, f"{table}: {col.name}")
            for v in col.values]


def file_stem(name: str) -> str:
    """The file stem ``hepdata_lib`` gives a table (lower case, spaces as underscores)."""
    return name.lower().replace(" ", "_")


def safe_name(text: str) -> str:
    """A table name from free text: only letters, digits, spaces and ``+-._()'`` kept, at most 64 characters."""
    name = re.sub(r"[^A-Za-z0-9 +\-._()']+", "-", text).strip(" -") or "table"
    return name[:MAX_NAME].rstrip()


def _unique(tables: Sequence[HepTable]) -> list[str]:
    """Table names, made file-safe and unique (a suffix `` (2)``, ... where two would share a file)."""
    seen, out = set(), []
    for t in tables:
        base = safe_name(t.name)
        name, k = base, 1
        while file_stem(name) in seen or file_stem(name) == "submission":
            k += 1
            suffix = f" ({k})"
            name = base[:MAX_NAME - len(suffix)].rstrip() + suffix
        seen.add(file_stem(name))
        out.append(name)
    return out


def check_folder(text: str, option: str = "--hepdata") -> Path:
    """The submission folder: new, empty, or an earlier submission (only YAML files and a ``submission.yaml``).

    Anything else would be deleted or make the submission invalid (unreferenced files), so it is an
    :class:`~zprime_jax.errors.InputError` naming ``option``; so is a path that is a file, or under one.
    """
    if not str(text).strip():
        raise InputError(f"{option}: empty path (give a folder)")
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option}: {text} exists and is not a folder")
    if folder.is_dir():
        entries = list(folder.iterdir())
        foreign = [p.name for p in entries if not (p.is_file() and p.suffix == ".yaml")]
        if entries and (foreign or not (folder / "submission.yaml").is_file()):
            shown = ", ".join(sorted(foreign)[:3]) or ", ".join(sorted(p.name for p in entries)[:3])
            raise InputError(f"{option}: {text} holds other files ({shown}, ...) and is not an earlier HEPData "
                             "submission; give a new or empty folder (its contents are replaced on every run)")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{option}: cannot create {text}: {existing} is not a folder")
    return folder


def write_submission(folder: str | Path, tables: Sequence[HepTable], comment: str,
                     links: Sequence[tuple[str, str]] = (), option: str = "--hepdata") -> str:
    """Write a HEPData submission of ``tables`` into ``folder``; returns the path of its ``submission.yaml``.

    Args:
      folder: the submission folder (created; an earlier submission there is replaced: :func:`check_folder`).
      tables: the tables, in order (names made file-safe and unique).
      comment: the submission's comment (what was run, by which package version).
      links: (description, URL) of additional resources (the papers).
      option: the option named in an error about the folder.
    The submission is made and validated in a temporary folder first (``hepdata_lib``'s
    ``Submission.create_files(..., remove_old=True)``, validation on), so a failure leaves ``folder`` as it was.
    """
    with warnings.catch_warnings():     # hepdata_validator (imported by hepdata_lib) uses jsonschema.RefResolver,
        warnings.simplefilter("ignore", DeprecationWarning)         # deprecated there: not the caller's concern
        from hepdata_lib import Submission, Table, Uncertainty, Variable

    if not tables:
        raise ValueError("hepdata: no tables to write")
    folder = check_folder(str(folder), option)
    sub = Submission()
    sub.comment = comment
    for description, url in links:
        sub.add_link(description, url)
    for t, name in zip(tables, _unique(tables)):
        n = {len(c.values) for c in (*t.independent, *t.dependent)}
        if len(n) != 1:
            raise ValueError(f"hepdata: table {t.name!r}: columns of different lengths {sorted(n)}")
        table = Table(name)
        table.description = t.description
        table.location = t.location
        table.keywords = dict(t.keywords)
        for col in t.independent:
            var = Variable(col.name, is_independent=True, is_binned=False, units=col.units)
            var.values = _values(col, t.name)
            var.digits = DIGITS
            table.add_variable(var)
        for col in t.dependent:
            var = Variable(col.name, is_independent=False, is_binned=False, units=col.units)
            var.values = _values(col, t.name)
            var.digits = DIGITS
            for q_name, q_value, q_units in col.qualifiers:
                var.add_qualifier(q_name, q_value, q_units)
            if col.errors is not None:
                unc = Uncertainty(col.error_label, is_symmetric=True)
                unc.values = [None if e is None else _number(e, f"{t.name}: {col.name} error") for e in col.errors]
                var.add_uncertainty(unc)
            table.add_variable(var)
        sub.add_table(table)
    with tempfile.TemporaryDirectory(prefix="zprime-jax-hepdata-") as tmp:
        stage = Path(tmp) / "submission"
        # hepdata_lib writes its archive into the working folder and prints to stdout (which carries the
        # command's JSON): both redirected; its validator leaves files to the garbage collector (ResourceWarning)
        with contextlib.chdir(tmp), contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            sub.create_files(str(stage), validate=True, remove_old=True)
            gc.collect()
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):           # an earlier submission (check_folder: nothing else there)
            old.unlink()
        for new in sorted(stage.iterdir()):
            shutil.move(str(new), folder / new.name)
    return str(folder / "submission.yaml")
