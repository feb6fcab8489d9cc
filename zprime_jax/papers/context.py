"""What every reproduced figure shares: resolution settings, progress, the run context and output.

:class:`Context` carries the output folder, the :class:`Settings`, the overlays, the
progress reporter and a cache (kernels, measurements, limits and contours computed once per
run and shared between figures); it writes the CSV files and saves the PNGs.
:func:`num` and :func:`cell` format numbers for the JSON summary and the CSV files.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.progress import progress_bar

CL90 = 2.705543454095404          # Delta chi^2 at 90% CL, one parameter (both papers)


@dataclass(frozen=True)
class Settings:
    """Resolution of every figure (``QUICK`` or ``FULL``)."""

    pressure_points: int          # light Fig. 1
    trace_samples: int            # light (m, g) contours: samples per seed ray of the level-set tracer
    sigmas: tuple                 # heavy Fig. 2 (sigma_stat = sigma_sys)
    luminosity_ratios: tuple      # heavy Fig. 3
    cos_betas: int                # heavy Fig. 5
    fig6_sigmas: tuple            # heavy Fig. 6 (limit versus sigma)


# Heavy Fig. 6, left panel: the curves drawn; the paper's sigmas range "from 20% to zero" (sec. 4.3,
# published.numbers("heavy", "fig6_sigma_range")), the steps between are ours.
FIG6_SIGMAS = (0.2, 0.1, 0.05, 0.02, 0.01, 0.0)
_FULL_SIGMAS = {*np.round(np.linspace(0.0, 0.2, 21), 4).tolist(), 0.005, 0.015}

QUICK = Settings(pressure_points=81, trace_samples=129,
                 sigmas=(0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2), luminosity_ratios=(1.0, 3.0, 10.0, 30.0, 100.0),
                 cos_betas=81, fig6_sigmas=FIG6_SIGMAS)
FULL = Settings(pressure_points=161, trace_samples=257, sigmas=tuple(sorted(_FULL_SIGMAS)),
                luminosity_ratios=tuple(np.round(np.geomspace(1.0, 100.0, 21), 6).tolist()),
                cos_betas=401, fig6_sigmas=tuple(sorted(_FULL_SIGMAS, reverse=True)))


class Progress:
    """Figure k of n, what runs now and the elapsed time: a progress bar on a stream (None: silent)."""

    def __init__(self, stream, n: int):
        self.stream, self.n, self.t0 = stream, n, time.perf_counter()
        self.k, self.name, self.t_fig = 0, "", self.t0
        self.bar = progress_bar("reproduce", n, stream, "figure")

    def start(self, k: int, name: str) -> None:
        self.k, self.name, self.t_fig = k, name, time.perf_counter()
        self.bar.set_postfix_str(f"figure {k}/{self.n}: {name}")

    def step(self, what: str) -> None:
        self.bar.set_postfix_str(f"figure {self.k}/{self.n}: {self.name}: {what}")

    def done(self) -> float:
        """End the current figure (a line above the bar); returns its duration [s]."""
        now = time.perf_counter()
        if self.stream is not None:
            self.bar.write(f"reproduce: figure {self.k}/{self.n}: {self.name} done in {now - self.t_fig:.1f} s "
                           f"(elapsed {now - self.t0:.1f} s)", file=self.stream)
        self.bar.update(1)
        if self.k == self.n:
            self.bar.close()
        return now - self.t_fig


@dataclass
class Context:
    """One ``reproduce`` run: output folder, settings, overlays, progress, shared cache."""

    out: Path
    settings: Settings
    overlays: list
    progress: Progress
    experiments: frozenset | None = None       # restriction of the heavy experiment lists (tests)
    cache: dict = field(default_factory=dict)

    def pick(self, names) -> list[str]:
        """``names`` restricted to the selected experiments, in order."""
        return [n for n in names if self.experiments is None or n in self.experiments]

    def cached(self, key, make: Callable):
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def kernel(self, name: str, **overrides):
        """The kernel of the preset ``name`` with spec ``overrides`` (built once per run)."""
        from ..kernels.rates import build_kernel
        from ..spec import load_experiment

        return self.cached(("kernel", name, tuple(sorted(overrides.items()))),
                           lambda: build_kernel(load_experiment(name, **overrides)))

    def write_csv(self, filename: str, header, rows) -> str:
        path = self.out / filename
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return str(path)

    def write_columns(self, filename: str, x_name: str, xs: Sequence,
                      columns: Mapping[str, Sequence]) -> str:
        """A CSV with the column ``x_name`` = ``xs`` and one column per entry of ``columns`` (:func:`cell`)."""
        cols = list(columns.values())
        return self.write_csv(filename, [x_name, *columns],
                              [[cell(x), *[cell(c[i]) for c in cols]] for i, x in enumerate(xs)])

    def save(self, fig, filename: str) -> str:
        """Save a matplotlib figure as ``out/filename`` (150 dpi); returns the path."""
        path = self.out / filename
        fig.savefig(path, dpi=150)
        return str(path)


def stem(fig_name: str) -> str:
    """File stem of a figure: ``light-fig2`` -> ``light_fig2``."""
    return fig_name.replace("-", "_")


def num(x, digits: int = 8):
    """JSON/CSV-ready float (None for missing or non-finite)."""
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def cell(x) -> str:
    """CSV cell of a number (empty for missing or non-finite)."""
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{float(x):.8g}"
