"""The reproducible figures: :data:`FIGURES` maps a name to (description, function).

A figure function takes the run :class:`~.context.Context` and returns a JSON-ready dict
with at least ``files`` (the PNG and CSV/Markdown paths it wrote). :func:`check_figures`
validates a selection before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .context import Context
from .heavy import heavy_fig1, heavy_fig2, heavy_fig3, heavy_fig4
from .heavy_e6 import heavy_fig5, heavy_fig6
from .light import light_fig1, light_fig2, light_fig3, light_fig4, light_fig5
from .table3 import heavy_table3

FIGURES: dict[str, tuple[str, Callable[[Context], dict]]] = {
    "light-fig1": ("light-mediator paper Fig. 1: nuBDX-DRIFT SM events versus CS2 pressure", light_fig1),
    "light-fig2": ("light-mediator paper Fig. 2: universal Z' sensitivity, nuBDX-DRIFT and ESS", light_fig2),
    "light-fig3": ("light-mediator paper Fig. 3: B-L sensitivity, nuBDX-DRIFT and ESS", light_fig3),
    "light-fig4": ("light-mediator paper Fig. 4: B-L sensitivity (for invisible-decay bounds)", light_fig4),
    "light-fig5": ("light-mediator paper Fig. 5: L_mu-L_tau sensitivity, nuBDX-DRIFT and ESS", light_fig5),
    "heavy-fig1": ("heavy-Z' paper Fig. 1: Delta chi^2(M_Z') for COHERENT and reactors, LR and E6", heavy_fig1),
    "heavy-fig2": ("heavy-Z' paper Fig. 2: mass limit versus sigma_stat = sigma_sys", heavy_fig2),
    "heavy-fig3": ("heavy-Z' paper Fig. 3: mass limit versus luminosity ratio", heavy_fig3),
    "heavy-fig4": ("heavy-Z' paper Fig. 4: 51Cr-LXe nu-e Delta chi^2(M_Z'), LR and E6", heavy_fig4),
    "heavy-fig5": ("heavy-Z' paper Fig. 5: E6 (cos beta, M_Z') regions, CEvNS and 51Cr", heavy_fig5),
    "heavy-fig6": ("heavy-Z' paper Fig. 6: combined CEvNS + nu-e versus uncertainty, chi and eta", heavy_fig6),
    "heavy-table3": ("heavy-Z' paper Table III: mass limits, ours beside the paper's (CSV, Markdown)",
                     heavy_table3),
}


def check_figures(figures) -> list[str]:
    """The selected figure names (None: all), duplicates removed; ValueError listing the valid names."""
    if figures is None:
        return list(FIGURES)
    names = [figures] if isinstance(figures, str) else list(figures)
    if not names:
        raise InputError(f"--figure: give at least one figure name (or --all); valid names: {', '.join(FIGURES)}")
    bad = [n for n in names if n not in FIGURES]
    if bad:
        raise InputError(f"--figure: unknown figure name(s) {', '.join(map(repr, bad))}; "
                         f"valid names: {', '.join(FIGURES)}")
    return list(dict.fromkeys(names))
