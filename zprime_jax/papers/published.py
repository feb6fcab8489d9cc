"""The two papers' published numbers, from the shipped data file ``published.toml``.

One place for every number of the light-mediator paper (Bertuzzo, Grilli di Cortona,
Magno Dantas Ramos, arXiv:2112.04020) and of the heavy-Z' paper (Miranda, Papoulias,
Tortola, Valle, arXiv:2002.01482) that ``zprime-jax reproduce`` and the tests compare
against or that fixes a reproduced figure's settings. The file names the source of each
table and number (paper, table, figure, section); these functions return copies, so that
no caller can change what the next one reads.

``paper`` arguments are ``"light"`` or ``"heavy"``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

from ..errors import InputError

DATA_FILE = "published.toml"
PAPERS = ("light", "heavy")


@dataclass(frozen=True)
class Number:
    """A number quoted in a paper: ``value`` (float, or a tuple of floats), ``unit`` and ``source``."""

    value: float | tuple[float, ...]
    unit: str
    source: str


@functools.cache
def _data() -> dict:
    """The parsed data file (read once per process)."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _paper(paper: str) -> dict:
    if paper not in PAPERS:
        raise InputError(f"paper: unknown paper {paper!r}; allowed: {', '.join(PAPERS)}")
    return _data()[paper]


def citation(paper: str) -> str:
    """Short citation of ``paper`` for titles and captions, e.g. ``"Miranda et al., arXiv:2002.01482"``."""
    _paper(paper)
    return _data()["papers"][paper]["short"]


def arxiv(paper: str) -> str:
    """The arXiv number of ``paper`` (``"2112.04020"`` or ``"2002.01482"``)."""
    _paper(paper)
    return _data()["papers"][paper]["arxiv"]


def quote(paper: str, name: str) -> Number:
    """The number ``name`` quoted in the text of ``paper``, with its unit and source."""
    numbers = _paper(paper)["numbers"]
    if name not in numbers:
        raise KeyError(f"{paper} paper: no published number {name!r}; known: {', '.join(numbers)}")
    entry = numbers[name]
    v = entry["value"]
    value = tuple(float(x) for x in v) if isinstance(v, list) else float(v)
    return Number(value, entry["unit"], entry["source"])


def number(paper: str, name: str) -> float:
    """The scalar ``name`` quoted in ``paper`` (TypeError for a list; see :func:`numbers`)."""
    v = quote(paper, name).value
    if isinstance(v, tuple):
        raise TypeError(f"{paper} paper: {name!r} is a list of {len(v)} numbers; use numbers()")
    return v


def numbers(paper: str, name: str) -> tuple[float, ...]:
    """The list ``name`` quoted in ``paper`` (a scalar comes back as a 1-tuple)."""
    v = quote(paper, name).value
    return v if isinstance(v, tuple) else (v,)


def table_iii() -> dict[tuple[str, str], float | None]:
    """Heavy-Z' paper, Table III: {(experiment, model): 90% CL sensitivity on M_Z' [GeV]}.

    Printed integers (GeV) as ``int``; ``None`` where the table prints "-" (no sensitivity:
    CEvNS to the psi model). Keys in the printed order: experiment (column) major, models
    ``e6-chi, e6-eta, e6-psi, lr`` (rows) within; the 51Cr-LXe column is A, B, C.
    """
    t = _data()["heavy"]["table_iii"]
    dash = t["no_sensitivity"]
    rows = t["mass_limit_gev"]
    out: dict[tuple[str, str], float | None] = {}
    for i, experiment in enumerate(t["experiments"]):
        for model, values in rows.items():
            v = values[i]
            out[(experiment, model)] = None if v == dash else v
    return out


def table_iii_experiments() -> tuple[str, ...]:
    """The experiments (columns) of Table III in the printed order."""
    return tuple(_data()["heavy"]["table_iii"]["experiments"])


def table_iii_models() -> tuple[str, ...]:
    """The models (rows) of Table III in the printed order: ``e6-chi, e6-eta, e6-psi, lr``."""
    return tuple(_data()["heavy"]["table_iii"]["mass_limit_gev"])


def light_table_1() -> dict[str, float]:
    """Light-mediator paper, Table 1: {isotope: rms charge radius [fm]} (``"Cs133"``, ..., ``"S32"``)."""
    return {k: float(v) for k, v in _data()["light"]["table_1"]["values"].items()}


def light_table_2() -> dict[str, dict[str, float | str]]:
    """Light-mediator paper, Table 2: {ESS preset: {column: value}}.

    Columns: ``technology``, ``target``, ``mass_kg``, ``threshold_kev``,
    ``resolution_at_threshold_percent``, ``e_max_kev``, ``background_per_day`` (steady-state,
    duty factor included).
    """
    return {name: dict(row) for name, row in _data()["light"]["table_2"]["rows"].items()}


def source(paper: str, table: str) -> str:
    """The source line of a table of ``paper`` (``"table_1"``, ``"table_2"``, ``"table_iii"``)."""
    p = _paper(paper)
    if table not in p:
        raise KeyError(f"{paper} paper: no table {table!r}; known: {', '.join(k for k in p if k != 'numbers')}")
    return p[table]["source"]
