"""Regenerate the figures and Table III of the two papers: ``zprime-jax reproduce`` (issue 8).

Light-mediator paper (Bertuzzo, Grilli di Cortona, Magno Dantas Ramos,
arXiv:2112.04020), Figs. 1-5, and heavy-Z' paper (Miranda, Papoulias,
Tortola, Valle, arXiv:2002.01482), Figs. 1-6 and Table III, each as a PNG and
a CSV of the plotted data, from the package's public functions (no physics
here). :data:`FIGURES` maps a name to (description, function);
:func:`main_reproduce` runs a selection and returns a JSON-ready dict;
:func:`add_arguments` adds the command-line options to a subparser.

Existing experimental bounds appear only from files the user gives
(``--overlay FILE``, :func:`read_overlay`): a CSV with columns
``mass_mev,coupling``, optionally ``label`` (one curve per label) and
``figure`` (the figure names a row is drawn on; default every (m, g)
figure). A curve whose first point equals its last is a closed region and
is filled lightly. Nothing is digitised from the papers.

``quick=True`` uses coarse grids (the whole set in a few minutes on 2 cores);
the default mode uses finer grids and more points. Progress (figure k of n,
elapsed time) goes to ``progress`` (stderr by default); nothing is printed
on stdout.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CL90 = 2.705543454095404          # Delta chi^2 at 90% CL, one parameter (both papers)
LIGHT_PAPER = "Bertuzzo et al., arXiv:2112.04020"
HEAVY_PAPER = "Miranda et al., arXiv:2002.01482"

ESS = ("ess-csi", "ess-si", "ess-xe", "ess-ge", "ess-ar", "ess-c3f8")
# Light-mediator paper, sec. 4.1: CsI (blue), Ge (purple), Si (orange), Ar (green), Xe (red), C3F8 (brown);
# nuBDX-DRIFT at 60 Torr (blue) and 411 Torr (orange).
ESS_COLOURS = {"ess-csi": "tab:blue", "ess-ge": "tab:purple", "ess-si": "tab:orange", "ess-ar": "tab:green",
               "ess-xe": "tab:red", "ess-c3f8": "tab:brown"}
ESS_LABELS = {"ess-csi": "CsI", "ess-ge": "Ge", "ess-si": "Si", "ess-ar": "Ar", "ess-xe": "Xe",
              "ess-c3f8": r"C$_3$F$_8$"}
DRIFT_PRESSURES = {60.0: "tab:blue", 411.0: "tab:orange"}
LIGHT_TITLES = {"universal": r"universal $Z'$", "b-l": r"$B-L$", "lmu-ltau": r"$L_\mu-L_\tau$"}
# (m_Z' [MeV], g) ranges of the light-mediator planes
LIGHT_RANGES = {"universal": ((1.0, 1.0e5), (1.0e-6, 1.0)), "b-l": ((1.0, 1.0e5), (1.0e-6, 1.0)),
                "lmu-ltau": ((1.0, 1.0e4), (1.0e-5, 1.0))}
LIGHT_KEY_MASSES_MEV = (1.0, 10.0, 100.0, 1000.0)

SNS = ("coherent-csi", "coherent-lar", "coherent-ge", "coherent-nai")
REACTORS = ("conus", "connie", "miner", "texono", "red100", "nucleus", "ricochet")
CR51 = ("cr51-lxe-a", "cr51-lxe-b", "cr51-lxe-c")
COMBINED = ("coherent-csi", "connie", "cr51-lxe-c")    # heavy-Z' paper sec. 4.3 (Fig. 6)
HEAVY_LABELS = {"coherent-csi": "COHERENT CsI", "coherent-lar": "COHERENT LAr", "coherent-ge": "COHERENT Ge",
                "coherent-nai": "COHERENT NaI", "conus": "CONUS", "connie": "CONNIE", "miner": "MINER",
                "texono": "TEXONO", "red100": "RED100", "nucleus": "NUCLEUS", "ricochet": "RICOCHET",
                "cr51-lxe-a": r"$^{51}$Cr-LXe A", "cr51-lxe-b": r"$^{51}$Cr-LXe B",
                "cr51-lxe-c": r"$^{51}$Cr-LXe C"}
HEAVY_COLOURS = {"coherent-csi": "tab:blue", "coherent-lar": "tab:orange", "coherent-ge": "tab:green",
                 "coherent-nai": "tab:red", "conus": "tab:blue", "connie": "tab:orange", "miner": "tab:green",
                 "texono": "tab:red", "red100": "tab:purple", "nucleus": "tab:brown", "ricochet": "tab:pink",
                 "cr51-lxe-a": "tab:blue", "cr51-lxe-b": "tab:orange", "cr51-lxe-c": "tab:green"}
HEAVY_MODEL_LABELS = {"lr": "LR", "e6-chi": r"$\chi$", "e6-eta": r"$\eta$", "e6-psi": r"$\psi$"}
# heavy-Z' paper: chi red band, eta gray band (Fig. 1); Fig. 4 text: chi dashed, eta solid, psi dotted
E6_BAND_COLOURS = {"e6-chi": "tab:red", "e6-eta": "0.45"}
E6_LINESTYLES = {"e6-chi": "--", "e6-eta": "-", "e6-psi": ":"}
GROUP_COLOURS = {"SNS": "tab:blue", "reactors": "tab:green"}      # Fig. 5 left: SNS blue, reactors green

# Heavy-Z' paper, Table III: 90% CL sensitivity on M_Z' [GeV] (arXiv:2002.01482, "TABLE III"); None = "-"
# (no CEvNS sensitivity to the psi model). The 51Cr-LXe column is (A, B, C).
PAPER_TABLE_III = {
    "e6-chi": {"coherent-csi": 183, "coherent-lar": 220, "coherent-ge": 215, "coherent-nai": 217, "conus": 218,
               "connie": 228, "miner": 223, "texono": 215, "red100": 215, "nucleus": 222, "ricochet": 221,
               "cr51-lxe-a": 510, "cr51-lxe-b": 481, "cr51-lxe-c": 564},
    "e6-eta": {"coherent-csi": 144, "coherent-lar": 170, "coherent-ge": 166, "coherent-nai": 168, "conus": 169,
               "connie": 177, "miner": 173, "texono": 167, "red100": 166, "nucleus": 172, "ricochet": 171,
               "cr51-lxe-a": 487, "cr51-lxe-b": 459, "cr51-lxe-c": 540},
    "e6-psi": {**{n: None for n in SNS + REACTORS}, "cr51-lxe-a": 224, "cr51-lxe-b": 211, "cr51-lxe-c": 250},
    "lr": {"coherent-csi": 110, "coherent-lar": 124, "coherent-ge": 122, "coherent-nai": 125, "conus": 125,
           "connie": 125, "miner": 124, "texono": 123, "red100": 125, "nucleus": 125, "ricochet": 125,
           "cr51-lxe-a": 483, "cr51-lxe-b": 455, "cr51-lxe-c": 534},
}
TABLE_MODELS = ("e6-chi", "e6-eta", "e6-psi", "lr")
TABLE_EXPERIMENTS = SNS + REACTORS + CR51
FIG6_SIGMAS = (0.2, 0.1, 0.05, 0.02, 0.01, 0.0)      # "ranging from 20% to zero" (sec. 4.3)
FIG3_SIGMA = 0.05                                     # sigma_stat = sigma_sys = 5% (sec. 4.1)


@dataclass(frozen=True)
class Settings:
    """Resolution of every figure (``QUICK`` or ``FULL``)."""

    pressure_points: int          # light Fig. 1
    trace_samples: int            # light (m, g) contours: samples per seed ray of the level-set tracer
    sigmas: tuple                 # heavy Fig. 2 (sigma_stat = sigma_sys)
    luminosity_ratios: tuple      # heavy Fig. 3
    cos_betas: int                # heavy Fig. 5
    fig6_sigmas: tuple            # heavy Fig. 6 (limit versus sigma)


QUICK = Settings(pressure_points=81, trace_samples=129,
                 sigmas=(0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2), luminosity_ratios=(1.0, 3.0, 10.0, 30.0, 100.0),
                 cos_betas=81, fig6_sigmas=FIG6_SIGMAS)
FULL = Settings(pressure_points=161, trace_samples=257,
                sigmas=tuple(sorted({*np.round(np.linspace(0.0, 0.2, 21), 4).tolist(), 0.005, 0.015})),
                luminosity_ratios=tuple(np.round(np.geomspace(1.0, 100.0, 21), 6).tolist()),
                cos_betas=401, fig6_sigmas=tuple(sorted({*np.round(np.linspace(0.0, 0.2, 21), 4).tolist(),
                                                          0.005, 0.015}, reverse=True)))


# --------------------------------------------------------------------------- overlays


@dataclass(frozen=True)
class Overlay:
    """A user-supplied existing bound in the (m_Z' [MeV], g) plane.

    ``closed``: first point == last point (drawn as a lightly filled region).
    ``figures``: the figure names it is drawn on (empty: every (m, g) figure).
    """

    label: str
    mass_mev: np.ndarray
    coupling: np.ndarray
    closed: bool
    source: str
    figures: tuple = ()


def read_overlay(path) -> list[Overlay]:
    """Read an overlay CSV (columns ``mass_mev,coupling``, optional ``label`` and ``figure``).

    Rows with the same label form one curve, in file order (without a
    ``label`` column: one curve named after the file). ``figure``: figure
    names separated by ``;`` or spaces where that row's curve is drawn
    (default: every (m, g) figure). Raises ValueError naming the file, the
    row and the column on bad input.
    """
    p = Path(path)
    try:
        with open(p, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"--overlay {p}: cannot read the file: {err}") from None
    rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise ValueError(f"--overlay {p}: empty; expected a header with the columns mass_mev,coupling")
    header = [c.strip().lower() for c in rows[0]]
    for col in ("mass_mev", "coupling"):
        if col not in header:
            raise ValueError(f"--overlay {p}: missing column {col!r} (columns found: {', '.join(header)}; "
                             "expected mass_mev,coupling[,label][,figure])")
    unknown = [c for c in header if c not in ("mass_mev", "coupling", "label", "figure")]
    if unknown:
        raise ValueError(f"--overlay {p}: unknown column(s) {unknown}; allowed: mass_mev, coupling, label, figure")
    idx = {c: header.index(c) for c in header}
    curves: dict[str, list] = {}
    figures: dict[str, set] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        values = []
        for col in ("mass_mev", "coupling"):
            text = row[idx[col]].strip()
            try:
                v = float(text)
            except ValueError:
                raise ValueError(f"--overlay {p}, line {line}, column {col!r}: not a number: {text!r}") from None
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"--overlay {p}, line {line}, column {col!r}: must be finite and > 0 "
                                 f"(log axes), got {text!r}")
            values.append(v)
        label = row[idx["label"]].strip() if "label" in idx else ""
        label = label or p.stem
        curves.setdefault(label, []).append(values)
        if "figure" in idx:
            names = [n for n in row[idx["figure"]].replace(";", " ").split() if n]
            bad = [n for n in names if n not in MG_FIGURES]
            if bad:
                raise ValueError(f"--overlay {p}, line {line}, column 'figure': unknown figure(s) {bad}; "
                                 f"allowed: {', '.join(MG_FIGURES)}")
            figures.setdefault(label, set()).update(names)
    if not curves:
        raise ValueError(f"--overlay {p}: no data rows below the header")
    out = []
    for label, pts in curves.items():
        if len(pts) < 2:
            raise ValueError(f"--overlay {p}: curve {label!r} has {len(pts)} point; need at least 2 "
                             "(columns mass_mev, coupling)")
        a = np.asarray(pts, dtype=float)
        closed = len(pts) >= 3 and bool(np.all(a[0] == a[-1]))
        out.append(Overlay(label, a[:, 0], a[:, 1], closed, str(p), tuple(sorted(figures.get(label, ())))))
    return out


OVERLAY_COLOURS = ("darkgreen", "0.45", "olive", "teal", "saddlebrown", "darkslateblue", "darkred", "black")


def _draw_overlays(ax, overlays, figure_name: str) -> None:
    for i, ov in enumerate(o for o in overlays if not o.figures or figure_name in o.figures):
        colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
        if ov.closed:
            from matplotlib.colors import to_rgba

            ax.fill(ov.mass_mev, ov.coupling, facecolor=to_rgba(colour, 0.2), edgecolor=colour, lw=0.9, zorder=1,
                    label=ov.label)
        else:
            ax.plot(ov.mass_mev, ov.coupling, color=colour, lw=1.2, ls="-.", zorder=1, label=ov.label)


# --------------------------------------------------------------------------- context, progress, output


class _Progress:
    """Figure k of n with the elapsed time, on a stream (None: silent)."""

    def __init__(self, stream, n: int):
        self.stream, self.n, self.t0 = stream, n, time.perf_counter()
        self.k, self.name, self.t_fig = 0, "", self.t0

    def _write(self, text: str, end: str = "") -> None:
        if self.stream is None:
            return
        self.stream.write("\r" + text.ljust(110) + end)
        self.stream.flush()

    def _bar(self, done: float) -> str:
        fill = int(round(24 * done / self.n))
        return f"[{'#' * fill:<24}]"

    def start(self, k: int, name: str) -> None:
        self.k, self.name, self.t_fig = k, name, time.perf_counter()
        self._write(f"reproduce {self._bar(k - 1)} figure {k}/{self.n}: {name} "
                    f"({time.perf_counter() - self.t0:.1f} s)")

    def step(self, what: str) -> None:
        self._write(f"reproduce {self._bar(self.k - 1)} figure {self.k}/{self.n}: {self.name}: {what} "
                    f"({time.perf_counter() - self.t0:.1f} s)")

    def done(self) -> float:
        now = time.perf_counter()
        self._write(f"reproduce {self._bar(self.k)} figure {self.k}/{self.n}: {self.name} done in "
                    f"{now - self.t_fig:.1f} s (elapsed {now - self.t0:.1f} s)", end="\n")
        return now - self.t_fig


@dataclass
class _Context:
    out: Path
    settings: Settings
    overlays: list
    progress: _Progress
    experiments: frozenset | None = None       # restriction of the heavy experiment lists (tests)
    cache: dict = field(default_factory=dict)

    def pick(self, names) -> list[str]:
        return [n for n in names if self.experiments is None or n in self.experiments]

    def cached(self, key, make: Callable):
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def kernel(self, name: str, **overrides):
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


def _num(x, digits: int = 8):
    """JSON/CSV-ready float (None for missing or non-finite)."""
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def _cell(x) -> str:
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{float(x):.8g}"


def _new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _style(ax, logx=True, logy=True) -> None:
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3, lw=0.6)
    ax.grid(True, which="minor", alpha=0.1, lw=0.4)
    ax.tick_params(which="both", direction="in", top=True, right=True)


def _plain_log_ticks(ax, axis: str = "x", subs=(1.0, 2.0, 5.0)) -> None:
    """Label a log axis spanning few decades at 1, 2, 5 x 10^k in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(LogLocator(base=10.0, subs=subs))
    a.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())


def _save(fig, ctx: _Context, filename: str) -> str:
    path = ctx.out / filename
    fig.savefig(path, dpi=150)
    return str(path)


def _band(rows):
    """Pointwise (min, max) over rows ignoring non-finite values (NaN where none is finite); no warnings."""
    a = np.asarray([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    ok = np.isfinite(a)
    any_ok = ok.any(axis=0)
    lo = np.where(any_ok, np.min(np.where(ok, a, np.inf), axis=0), np.nan)
    hi = np.where(any_ok, np.max(np.where(ok, a, -np.inf), axis=0), np.nan)
    return lo, hi


# --------------------------------------------------------------------------- light-mediator paper


def light_fig1(ctx: _Context) -> dict:
    """SM CEvNS events in nuBDX-DRIFT versus pressure (7 years), carbon and sulfur parts, no recoil cut."""
    from ..design import pressure
    from ..spec import load_experiment

    # Fig. 1 has no cut on the maximum recoil energy: 100 MeV stands in for none (as `pressure-scan
    # --no-window-cut`; the Helm form factor makes recoils above a few MeV negligible).
    spec = load_experiment("nubdx-drift", window_max_kev=1.0e5)
    p = np.geomspace(1.0, 1000.0, ctx.settings.pressure_points)
    ctx.progress.step("SM counts versus pressure")
    res = pressure.pressure_scan(spec, p)
    max_events = float(np.sum(np.asarray(pressure.sm_events(res["max_torr"], spec))))
    fig, axes = _new_figure(width=6.4, height=4.6)
    ax = axes[0, 0]
    ax.plot(p, res["total"], color="black", lw=1.8, label=r"total: C + 2 S per CS$_2$")
    names = {"C12": ("tab:blue", "carbon"), "S32": ("tab:orange", "sulfur (2 per CS$_2$)")}
    for t, counts in res["by_target"].items():
        colour, label = names.get(t, (None, t))
        ax.plot(p, counts, color=colour, lw=1.4, label=label)
    if res["crossover_torr"]:
        ax.axvline(res["crossover_torr"], color="0.55", lw=1.2,
                   label=f"carbon overtakes sulfur: {res['crossover_torr']:.0f} Torr")
    ax.plot([res["max_torr"]], [max_events], "v", color="tab:red", ms=6,
            label=f"maximum: {res['max_torr']:.1f} Torr, {max_events:.1f} events")
    _style(ax, logx=True, logy=False)
    _plain_log_ticks(ax, "x", subs=(1.0,))
    ax.set_xlim(p[0], p[-1])
    ax.set_ylim(0, 1.1 * float(np.max(res["total"])))
    ax.set_xlabel("CS$_2$ pressure [Torr]")
    ax.set_ylabel(r"SM CE$\nu$NS events (7 years)")
    ax.set_title(r"$\nu$BDX-DRIFT, 10 m$^3$ CS$_2$, no recoil-energy cut", fontsize=10)
    fig.suptitle(f"{LIGHT_PAPER}, Fig. 1", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    files = [_save(fig, ctx, "light_fig1.png"),
             ctx.write_csv("light_fig1.csv", ["pressure_torr", "total", *res["by_target"]],
                           [[_cell(x) for x in row] for row in
                            np.column_stack([p, res["total"], *res["by_target"].values()])])]
    return {"files": files, "max_torr": _num(res["max_torr"]), "max_sm_events": _num(max_events),
            "crossover_torr": _num(res["crossover_torr"])}


def _light_contour(ctx: _Context, name: str, model_name: str, pressure_torr: float | None = None):
    """The traced 90% CL contour of one detector for a light model (cached: Figs. 3 and 4 share B-L).

    :func:`contours.trace_sensitivity` follows every branch of Delta chi^2 = 2.71, the thin blind-spot
    strip included (a grid would need ~10^3 couplings per decade to resolve it).
    """
    def make():
        from ..inference import contours
        from ..likelihood import stats
        from ..physics.models import get_model

        overrides = {} if pressure_torr is None else {"pressure_torr": float(pressure_torr)}
        kernel = ctx.kernel(name, **overrides)
        m_range, g_range = LIGHT_RANGES[model_name]
        return contours.trace_sensitivity((stats.asimov_measurement(kernel),), get_model(model_name),
                                          mass_range_mev=m_range, coupling_range=g_range, level=CL90,
                                          samples=ctx.settings.trace_samples)

    return ctx.cached(("light-contour", name, model_name, pressure_torr), make)


def _first_crossing(contour, mass_mev: float):
    """Smallest excluded coupling at ``mass_mev`` (the lowest crossing of the traced contour); None if none."""
    c = contour.crossings([mass_mev])[0]
    return float(c[0]) if c.size else None


def _light_sensitivity(ctx: _Context, fig_name: str, number: int, model_name: str, note: str = "") -> dict:
    (m_lo, m_hi), (g_lo, g_hi) = LIGHT_RANGES[model_name]
    panels = {
        "drift": [(f"{p:.0f} Torr", "nubdx-drift", p, colour) for p, colour in DRIFT_PRESSURES.items()],
        "ess": [(ESS_LABELS[n], n, None, ESS_COLOURS[n]) for n in ESS],
    }
    fig, axes = _new_figure(ncols=2, width=12.0, height=5.0)
    rows, limits, traces = [], {}, {}
    for ax, (panel, entries) in zip(axes[0], panels.items()):
        for label, name, pressure_torr, colour in entries:
            ctx.progress.step(f"{name}{'' if pressure_torr is None else f' at {pressure_torr:.0f} Torr'}")
            traced = _light_contour(ctx, name, model_name, pressure_torr)
            lines = traced.branches
            for i, ln in enumerate(lines):
                # CsI and Xe nearly coincide: CsI drawn wider underneath so that both stay visible
                ax.plot(ln[:, 0], ln[:, 1], color=colour, lw=2.6 if name == "ess-csi" else 1.5,
                        label=label if i == 0 else None, zorder=3)
                rows += [[panel, name if pressure_torr is None else f"{name}@{pressure_torr:g}torr", i,
                          _cell(m), _cell(g)] for m, g in ln]
            key = name if pressure_torr is None else f"{name}@{pressure_torr:g}torr"
            limits[key] = {f"{m:g}": _num(_first_crossing(traced, m), 4) for m in LIGHT_KEY_MASSES_MEV
                           if m_lo <= m <= m_hi}
            traces[key] = {"branches": traced.n_branches, "evaluations": traced.n_evaluations,
                           "converged": bool(traced.converged)}
        _draw_overlays(ax, ctx.overlays, fig_name)
        _style(ax)
        ax.set_xlim(m_lo, m_hi)
        ax.set_ylim(g_lo, g_hi)
        ax.set_xlabel(r"$m_{Z'}$ [MeV]")
        ax.set_ylabel(r"$g_{Z'}$")
        ax.set_title(r"$\nu$BDX-DRIFT (CS$_2$, 10 m$^3$, 7 years)" if panel == "drift"
                     else "ESS (20 m, 3 years)", fontsize=10)
        ax.legend(fontsize=8, loc="lower right", title="90% CL", title_fontsize=8)
    fig.suptitle(f"{LIGHT_PAPER}, Fig. {number}: {LIGHT_TITLES[model_name]}, 90% CL sensitivity{note}",
                 fontsize=11)
    files = [_save(fig, ctx, f"{fig_name.replace('-', '_')}.png"),
             ctx.write_csv(f"{fig_name.replace('-', '_')}.csv", ["panel", "experiment", "branch", "mass_mev",
                                                                 "coupling"], rows)]
    return {"files": files, "model": model_name, "delta_chi2": CL90,
            "coupling_limit_at_mass_mev": limits, "trace": traces,
            "overlays": sorted({o.label for o in ctx.overlays if not o.figures or fig_name in o.figures})}


def light_fig2(ctx: _Context) -> dict:
    """Universal Z': 90% CL (m, g) sensitivity of nuBDX-DRIFT at 60 and 411 Torr and of the six ESS detectors."""
    return _light_sensitivity(ctx, "light-fig2", 2, "universal")


def light_fig3(ctx: _Context) -> dict:
    """B-L: 90% CL (m, g) sensitivity of nuBDX-DRIFT (60, 411 Torr) and the ESS detectors (visible-decay bounds)."""
    return _light_sensitivity(ctx, "light-fig3", 3, "b-l")


def light_fig4(ctx: _Context) -> dict:
    """B-L: the same sensitivities as Fig. 3, for comparison with invisible-decay bounds (--overlay)."""
    return _light_sensitivity(ctx, "light-fig4", 4, "b-l", note=" (bounds for invisible decays: --overlay)")


def light_fig5(ctx: _Context) -> dict:
    """L_mu - L_tau: 90% CL (m, g) sensitivity of nuBDX-DRIFT (60, 411 Torr) and the six ESS detectors."""
    return _light_sensitivity(ctx, "light-fig5", 5, "lmu-ltau")


# --------------------------------------------------------------------------- heavy-Z' paper


def _heavy_measurements(ctx: _Context, names, form: str | None = None):
    """heavy.measurement of each experiment (``form`` applies to the CEvNS ones; None: the preset's own)."""
    from ..inference import heavy
    from ..kernels.electron import ElectronKernel

    def one(n):
        k = ctx.kernel(n)
        return heavy.measurement(k, form=None if isinstance(k, ElectronKernel) else form)

    return tuple(ctx.cached(("measurement", n, form), lambda n=n: one(n)) for n in names)


def _mass_limit(ctx: _Context, names, model_name: str, cos_beta: float = 0.0, form: str | None = None,
                sigma: float | None = None, luminosity: float | None = None) -> dict:
    """heavy.mass_limit of the experiments (chi^2 summed), cached."""
    def make():
        from ..inference import heavy
        from ..physics.models import get_model

        ms = _heavy_measurements(ctx, names, form)
        if sigma is not None:
            ms = heavy.with_uncertainty(ms, sigma)
        if luminosity is not None:
            ms = heavy.with_luminosity(ms, luminosity)
        return heavy.mass_limit(ms, get_model(model_name), cos_beta, level=CL90)

    return ctx.cached(("mass-limit", tuple(names), model_name, float(cos_beta), form, sigma, luminosity), make)


def _limit_value(res: dict):
    return res["mass_limit_gev"]


def _heavy_groups(ctx: _Context):
    return {"SNS": ctx.pick(SNS), "reactors": ctx.pick(REACTORS)}


def _empty_panel(ax, text="no experiment selected") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4")


def _mass_profile_panel(ax, *, empty: bool, mass_range_gev, title: str, cl_label=None,
                        ylabel=r"$\Delta\chi^2$", legend_fontsize=7.5, ncol=1) -> None:
    """Axes of a Delta chi^2(M_Z') panel (heavy Figs. 1, 4, 6): 90% CL line, log M [GeV], Delta chi^2 0-8."""
    if empty:
        _empty_panel(ax)
    ax.axhline(CL90, color="0.3", lw=0.9, ls=":", label=cl_label)
    _style(ax, logx=True, logy=False)
    _plain_log_ticks(ax, "x")
    ax.set_xlim(*mass_range_gev)
    ax.set_ylim(0.0, 8.0)
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=legend_fontsize, loc="upper right", ncol=ncol)


def heavy_fig1(ctx: _Context) -> dict:
    """Delta chi^2(M_Z') of each CEvNS experiment: LR (top) and E6 chi/eta bands (bottom); SNS left, reactors right."""
    groups = _heavy_groups(ctx)
    fig, axes = _new_figure(ncols=2, nrows=2, width=12.0, height=9.0)
    columns, header, limits = [], [], {}
    masses = None
    for col, (group, names) in enumerate(groups.items()):
        ax_lr, ax_e6 = axes[0, col], axes[1, col]
        for n in names:
            ctx.progress.step(f"LR, {n}")
            r = _mass_limit(ctx, (n,), "lr")
            masses = r["masses_gev"]
            ax_lr.plot(masses, r["delta_chi2"], color=HEAVY_COLOURS[n], lw=1.5, label=HEAVY_LABELS[n])
            columns.append(r["delta_chi2"])
            header.append(f"lr:{n}")
            limits.setdefault("lr", {})[n] = _num(_limit_value(r), 5)
        for model_name in ("e6-chi", "e6-eta"):
            curves = []
            for n in names:
                ctx.progress.step(f"{model_name}, {n}")
                r = _mass_limit(ctx, (n,), model_name)
                curves.append(r["delta_chi2"])
                columns.append(r["delta_chi2"])
                header.append(f"{model_name}:{n}")
                limits.setdefault(model_name, {})[n] = _num(_limit_value(r), 5)
            if curves:
                _e6_band(ax_e6, masses, curves, model_name)
        where = "SNS (COHERENT)" if group == "SNS" else "reactors"
        for ax, title in ((ax_lr, f"Left-Right, {where}"), (ax_e6, f"E$_6$ $\\chi$ and $\\eta$, {where}")):
            _mass_profile_panel(ax, empty=not names, mass_range_gev=(30.0, 1000.0), title=title,
                                cl_label=r"90% CL ($\Delta\chi^2$ = 2.71)")
    fig.suptitle(rf"{HEAVY_PAPER}, Fig. 1: $\Delta\chi^2$ profiles of $M_{{Z'}}$ from CE$\nu$NS", fontsize=11)
    files = [_save(fig, ctx, "heavy_fig1.png")]
    if masses is not None:
        files.append(ctx.write_csv("heavy_fig1.csv", ["mass_gev", *header],
                                   [[_cell(m), *[_cell(c[i]) for c in columns]] for i, m in enumerate(masses)]))
    return {"files": files, "delta_chi2": CL90, "mass_limit_gev": limits}


def _e6_band(ax, x, rows, model_name: str) -> None:
    """Shade the E6 band of one model (pointwise min to max over the experiments' ``rows``) with its edges."""
    lo, hi = _band(rows)
    colour = E6_BAND_COLOURS[model_name]
    ax.fill_between(x, lo, hi, color=colour, alpha=0.45, lw=0,
                    label=f"E$_6$ {HEAVY_MODEL_LABELS[model_name]} ({len(rows)} experiments)")
    for c in (lo, hi):
        ax.plot(x, c, color=colour, lw=0.8)


def _limit_scan_figure(ctx: _Context, fig_name: str, number: int, parameter: str, values) -> dict:
    """Heavy Figs. 2 and 3: the mass limit versus sigma_stat = sigma_sys or F'/F (LR lines, E6 chi/eta bands)."""
    groups = _heavy_groups(ctx)
    fig, axes = _new_figure(ncols=2, nrows=2, width=12.0, height=9.0)
    values = list(values)
    xs = np.asarray(values) * (100.0 if parameter == "uncertainty" else 1.0)
    table: dict = {}

    def limit(n, model_name, v):
        if parameter == "uncertainty":
            r = _mass_limit(ctx, (n,), model_name, form="projection", sigma=v)
        else:
            r = _mass_limit(ctx, (n,), model_name, form="projection", sigma=FIG3_SIGMA, luminosity=v)
        return _limit_value(r)

    for col, (group, names) in enumerate(groups.items()):
        ax_lr, ax_e6 = axes[0, col], axes[1, col]
        for n in names:
            ctx.progress.step(f"LR, {n}")
            row = [limit(n, "lr", v) for v in values]
            table.setdefault("lr", {})[n] = [_num(x, 5) for x in row]
            ax_lr.plot(xs, [np.nan if x is None else x for x in row], color=HEAVY_COLOURS[n], lw=1.5, marker="o",
                       ms=2.5, label=HEAVY_LABELS[n])
        for model_name in ("e6-chi", "e6-eta"):
            rows = []
            for n in names:
                ctx.progress.step(f"{model_name}, {n}")
                row = [limit(n, model_name, v) for v in values]
                table.setdefault(model_name, {})[n] = [_num(x, 5) for x in row]
                rows.append(row)
            if rows:
                _e6_band(ax_e6, xs, rows, model_name)
        where = "SNS (COHERENT)" if group == "SNS" else "reactors"
        for ax, title in ((ax_lr, f"Left-Right, {where}"), (ax_e6, f"E$_6$ $\\chi$ and $\\eta$, {where}")):
            if not names:
                _empty_panel(ax)
            if parameter == "uncertainty":
                _style(ax, logx=False, logy=True)
                _plain_log_ticks(ax, "y")
                ax.set_xlim(0.0, 100.0 * max(values))
                ax.set_xlabel(r"$\sigma_{\rm stat} = \sigma_{\rm sys}$ [%]")
            else:
                _style(ax, logx=True, logy=True)
                _plain_log_ticks(ax, "x", subs=(1.0, 3.0))
                _plain_log_ticks(ax, "y")
                ax.set_xlim(min(values), max(values))
                ax.set_xlabel(r"luminosity ratio $\mathcal{F}'/\mathcal{F}$")
            ax.set_ylabel(r"90% CL sensitivity on $M_{Z'}$ [GeV]")
            ax.set_title(title, fontsize=10)
            ax.legend(fontsize=7.5, loc="upper right" if parameter == "uncertainty" else "lower right")
    what = (r"versus $\sigma_{\rm stat} = \sigma_{\rm sys}$" if parameter == "uncertainty"
            else rf"versus luminosity ($\sigma_{{\rm stat}} = \sigma_{{\rm sys}}$ = {100 * FIG3_SIGMA:.0f}%)")
    fig.suptitle(f"{HEAVY_PAPER}, Fig. {number}: 90% CL sensitivity on $M_{{Z'}}$ {what}", fontsize=11)
    header, cols = [], []
    for model_name, per in table.items():
        for n, row in per.items():
            header.append(f"{model_name}:{n}")
            cols.append(row)
    xname = "sigma" if parameter == "uncertainty" else "luminosity_ratio"
    stem = fig_name.replace("-", "_")
    files = [_save(fig, ctx, f"{stem}.png"),
             ctx.write_csv(f"{stem}.csv", [xname, *header],
                           [[_cell(v), *[_cell(c[i]) for c in cols]] for i, v in enumerate(values)])]
    return {"files": files, xname: values, "mass_limit_gev": table,
            "chi2": "eq. 22 for every experiment (COHERENT CsI as a projection)"}


def heavy_fig2(ctx: _Context) -> dict:
    """Mass limit versus sigma_stat = sigma_sys (eq. 22; COHERENT CsI as a projection): LR and E6 chi/eta bands."""
    return _limit_scan_figure(ctx, "heavy-fig2", 2, "uncertainty", ctx.settings.sigmas)


def heavy_fig3(ctx: _Context) -> dict:
    """Mass limit versus the luminosity ratio F'/F at sigma_stat = sigma_sys = 5%: LR and E6 chi/eta bands."""
    return _limit_scan_figure(ctx, "heavy-fig3", 3, "luminosity", ctx.settings.luminosity_ratios)


def heavy_fig4(ctx: _Context) -> dict:
    """51Cr-LXe nu-e scattering, configurations A, B, C: Delta chi^2(M_Z') for LR (left) and E6 chi/eta/psi (right)."""
    names = ctx.pick(CR51)
    fig, axes = _new_figure(ncols=2, width=12.0, height=5.0)
    header, columns, limits = [], [], {}
    masses = None
    for ax, models in zip(axes[0], (("lr",), ("e6-chi", "e6-eta", "e6-psi"))):
        for model_name in models:
            for n in names:
                ctx.progress.step(f"{model_name}, {n}")
                r = _mass_limit(ctx, (n,), model_name)
                masses = r["masses_gev"]
                ls = "-" if model_name == "lr" else E6_LINESTYLES[model_name]
                tag = n[-1].upper()
                label = f"{tag}" if model_name == "lr" else f"{HEAVY_MODEL_LABELS[model_name]}, {tag}"
                ax.plot(masses, r["delta_chi2"], color=HEAVY_COLOURS[n], ls=ls, lw=1.5, label=label)
                header.append(f"{model_name}:{n}")
                columns.append(r["delta_chi2"])
                limits.setdefault(model_name, {})[n] = _num(_limit_value(r), 5)
        _mass_profile_panel(ax, empty=not names, mass_range_gev=(100.0, 2000.0), cl_label=r"90% CL",
                            title="Left-Right" if models == ("lr",) else
                            r"E$_6$: $\chi$ dashed, $\eta$ solid, $\psi$ dotted",
                            ncol=1 if models == ("lr",) else 2)
    fig.suptitle(rf"{HEAVY_PAPER}, Fig. 4: $\nu_e$-$e$ scattering, $^{{51}}$Cr source + LXe (A, B, C)",
                 fontsize=11)
    files = [_save(fig, ctx, "heavy_fig4.png")]
    if masses is not None:
        files.append(ctx.write_csv("heavy_fig4.csv", ["mass_gev", *header],
                                   [[_cell(m), *[_cell(c[i]) for c in columns]] for i, m in enumerate(masses)]))
    return {"files": files, "delta_chi2": CL90, "mass_limit_gev": limits}


def _e6_markers(ax, top: float) -> None:
    for name, c in ((r"$\chi$", 1.0), (r"$\psi$", 0.0), (r"$\eta$", math.sqrt(3.0 / 8.0))):
        ax.axvline(c, color="0.5", lw=0.8, ls=":")
        ax.text(c - 0.015, 0.93 * top, name, ha="right", va="top", fontsize=9)


def heavy_fig5(ctx: _Context) -> dict:
    """E6 (cos beta, M_Z') plane: 90% CL limit per cos beta; CEvNS SNS/reactor bands (left), 51Cr A, B, C (right)."""
    cos_betas = np.linspace(-1.0, 1.0, ctx.settings.cos_betas)
    groups = {**_heavy_groups(ctx), "cr51": ctx.pick(CR51)}
    per: dict = {}
    for names in groups.values():
        for n in names:
            ctx.progress.step(f"e6 plane, {n}")
            per[n] = [_limit_value(_mass_limit(ctx, (n,), "e6", float(cb))) for cb in cos_betas]
    fig, axes = _new_figure(ncols=2, width=12.0, height=5.0)
    top = 3000.0
    ax = axes[0, 0]
    bands = {}
    for group in ("SNS", "reactors"):
        names = groups[group]
        if not names:
            continue
        lo, hi = _band([per[n] for n in names])
        bands[group] = (lo, hi)
        colour = GROUP_COLOURS[group]
        ax.fill_between(cos_betas, lo, hi, color=colour, alpha=0.45, lw=0,
                        label=f"{'SNS (COHERENT)' if group == 'SNS' else 'reactors'}: {len(names)} experiments")
        for c in (lo, hi):
            ax.plot(cos_betas, c, color=colour, lw=0.9)
    if not bands:
        _empty_panel(ax)
    ax.set_title(r"CE$\nu$NS: band = weakest to strongest experiment", fontsize=10)
    ax = axes[0, 1]
    for n in groups["cr51"]:
        lim = np.asarray([np.nan if x is None else x for x in per[n]])
        ax.plot(cos_betas, lim, color=HEAVY_COLOURS[n], lw=1.6, label=f"configuration {n[-1].upper()}")
    if not groups["cr51"]:
        _empty_panel(ax)
    ax.axvline(-math.sqrt(5.0 / 32.0), color="tab:red", lw=0.8, ls="--",
               label=r"$\nu$-$e$ blind: $\cos\beta = -\sqrt{5/32}$")
    ax.set_title(r"$\nu_e$-$e$ scattering, $^{51}$Cr + LXe", fontsize=10)
    for ax in axes[0]:
        _e6_markers(ax, top)
        _style(ax, logx=False, logy=True)
        _plain_log_ticks(ax, "y")
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(10.0, top)
        ax.set_xlabel(r"$\cos\beta$")
        ax.set_ylabel(r"$M_{Z'}$ [GeV]")
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle(rf"{HEAVY_PAPER}, Fig. 5: E$_6$ models, 90% CL in the ($\cos\beta$, $M_{{Z'}}$) plane "
                 "(excluded below the curves, allowed above)", fontsize=11)
    names = list(per)
    rows = [[_cell(cb), *[_cell(per[n][i]) for n in names]] for i, cb in enumerate(cos_betas)]
    files = [_save(fig, ctx, "heavy_fig5.png"),
             ctx.write_csv("heavy_fig5.csv", ["cos_beta", *[f"mass_limit_gev:{n}" for n in names]], rows)]
    strongest = {n: _num(max((x for x in v if x is not None), default=None), 5) for n, v in per.items()}
    return {"files": files, "cos_beta_points": len(cos_betas), "strongest_mass_limit_gev": strongest}


def heavy_fig6(ctx: _Context) -> dict:
    """Combined COHERENT CsI + CONNIE + 51Cr-LXe C, sigma_stat = sigma_sys from 20% to 0: E6 chi and eta."""
    names = ctx.pick(COMBINED)
    fig, axes = _new_figure(ncols=2, width=12.0, height=5.0)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    ax = axes[0, 0]
    header, columns = [], []
    masses = None
    profile_limits: dict = {}
    for i, s in enumerate(FIG6_SIGMAS):
        colour = cmap(i / max(1, len(FIG6_SIGMAS) - 1) * 0.9)
        for model_name in ("e6-chi", "e6-eta"):
            if not names:
                continue
            ctx.progress.step(f"{model_name}, sigma = {s:g}")
            r = _mass_limit(ctx, tuple(names), model_name, form="projection", sigma=s)
            masses = r["masses_gev"]
            ax.plot(masses, r["delta_chi2"], color=colour, ls=E6_LINESTYLES[model_name], lw=1.4,
                    label=rf"{HEAVY_MODEL_LABELS[model_name]}, $\sigma$ = {100 * s:g}%")
            header.append(f"{model_name}:sigma={s:g}")
            columns.append(r["delta_chi2"])
            profile_limits.setdefault(model_name, {})[f"{s:g}"] = _num(_limit_value(r), 5)
    _mass_profile_panel(ax, empty=not names, mass_range_gev=(200.0, 3000.0),
                        title=r"combined $\Delta\chi^2$: $\chi$ dashed, $\eta$ solid",
                        ylabel=r"$\Delta\chi^2$ (combined)", legend_fontsize=7, ncol=2)

    ax = axes[0, 1]
    sigmas = list(ctx.settings.fig6_sigmas)
    xs = 100.0 * np.asarray(sigmas)
    scan_rows: dict = {}
    for model_name in ("e6-chi", "e6-eta"):
        ls = E6_LINESTYLES[model_name]
        for n in names:
            ctx.progress.step(f"{model_name}, {n} versus sigma")
            row = [_limit_value(_mass_limit(ctx, (n,), model_name, form="projection", sigma=s)) for s in sigmas]
            scan_rows[f"{model_name}:{n}"] = row
            ax.plot(xs, [np.nan if x is None else x for x in row], color=HEAVY_COLOURS[n], ls=ls, lw=1.0,
                    alpha=0.8, label=f"{HEAVY_MODEL_LABELS[model_name]}, {HEAVY_LABELS[n]}")
        if len(names) > 1:
            ctx.progress.step(f"{model_name}, combined versus sigma")
            row = [_limit_value(_mass_limit(ctx, tuple(names), model_name, form="projection", sigma=s))
                   for s in sigmas]
            scan_rows[f"{model_name}:combined"] = row
            ax.plot(xs, [np.nan if x is None else x for x in row], color="black", ls=ls, lw=2.2, marker="o",
                    ms=3, label=f"{HEAVY_MODEL_LABELS[model_name]}, combined")
    if not names:
        _empty_panel(ax)
    _style(ax, logx=False, logy=True)
    _plain_log_ticks(ax, "y")
    ax.set_xlim(0.0, 100.0 * max(sigmas))
    finite = [x for r in scan_rows.values() for x in r if x is not None]
    if finite:
        ax.set_ylim(0.8 * min(finite), 1.8 * max(finite))
    ax.set_xlabel(r"$\sigma_{\rm stat} = \sigma_{\rm sys}$ of the CE$\nu$NS experiments [%]")
    ax.set_ylabel(r"90% CL sensitivity on $M_{Z'}$ [GeV]")
    ax.set_title(r"limit versus uncertainty ($^{51}$Cr C unchanged)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    fig.suptitle(rf"{HEAVY_PAPER}, Fig. 6: combined CE$\nu$NS + $\nu_e$-$e$ (COHERENT CsI + CONNIE + "
                 r"$^{51}$Cr-LXe C), E$_6$ $\chi$ and $\eta$", fontsize=11)
    files = [_save(fig, ctx, "heavy_fig6.png")]
    if masses is not None:
        files.append(ctx.write_csv("heavy_fig6_profiles.csv", ["mass_gev", *header],
                                   [[_cell(m), *[_cell(c[i]) for c in columns]] for i, m in enumerate(masses)]))
    files.append(ctx.write_csv("heavy_fig6.csv", ["sigma", *scan_rows],
                               [[_cell(s), *[_cell(r[i]) for r in scan_rows.values()]] for i, s in enumerate(sigmas)]))
    return {"files": files, "experiments": names, "sigma": sigmas,
            "mass_limit_gev": {k: [_num(x, 5) for x in v] for k, v in scan_rows.items()},
            "chi2": "COHERENT CsI as an eq. 22 projection, CONNIE eq. 22, 51Cr C eq. 23 (unchanged)"}


def heavy_table3(ctx: _Context) -> dict:
    """Table III: 90% CL sensitivity on M_Z' per experiment and model, ours beside the paper's (CSV and Markdown)."""
    names = ctx.pick(TABLE_EXPERIMENTS)
    rows, worst = [], None
    for n in names:
        for model_name in TABLE_MODELS:
            ctx.progress.step(f"{model_name}, {n}")
            ours = _limit_value(_mass_limit(ctx, (n,), model_name))
            paper = PAPER_TABLE_III[model_name][n]
            dev = None if ours is None or paper is None else ours / paper - 1.0
            rows.append({"experiment": n, "model": model_name, "ours_gev": ours, "paper_gev": paper,
                         "relative_deviation": _num(dev, 4)})
            if dev is not None and (worst is None or abs(dev) > abs(worst["relative_deviation"])):
                worst = rows[-1]
    csv_path = ctx.write_csv("table_iii.csv", ["experiment", "model", "ours_gev", "paper_gev", "relative_deviation"],
                             [[r["experiment"], r["model"], _cell(r["ours_gev"]),
                               "" if r["paper_gev"] is None else r["paper_gev"], _cell(r["relative_deviation"])]
                              for r in rows])
    model_heads = {"e6-chi": "χ", "e6-eta": "η", "e6-psi": "ψ", "lr": "LR"}
    lines = [f"# Heavy-Z' paper ({HEAVY_PAPER}), Table III: 90% CL sensitivity on M_Z' [GeV]", "",
             "Each cell: ours / paper (relative deviation). Ours: `heavy.mass_limit` (Delta chi^2 = 2.7055; eq. 21 "
             "for COHERENT CsI, eq. 22 with sigma_stat = sigma_sys = 0.2 for the other CEvNS experiments, eq. 23 "
             "for 51Cr-LXe A, B, C). '–': no sensitivity.", "",
             "| experiment | " + " | ".join(model_heads[m] for m in TABLE_MODELS) + " |",
             "|---|" + "---|" * len(TABLE_MODELS)]

    def fmt(r):
        ours = "–" if r["ours_gev"] is None else f"{r['ours_gev']:.1f}"
        paper = "–" if r["paper_gev"] is None else f"{r['paper_gev']}"
        dev = "" if r["relative_deviation"] is None else f" ({100 * r['relative_deviation']:+.1f}%)"
        return f"{ours} / {paper}{dev}"

    for n in names:
        cells = [fmt(r) for m in TABLE_MODELS for r in rows if r["experiment"] == n and r["model"] == m]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    if worst is not None:
        lines += ["", f"Largest deviation: {100 * worst['relative_deviation']:+.1f}% ({worst['experiment']}, "
                  f"{model_heads[worst['model']]})."]
    md_path = ctx.out / "table_iii.md"
    md_path.write_text("\n".join(lines) + "\n")
    mismatched = [f"{r['experiment']}:{r['model']}" for r in rows
                  if (r["ours_gev"] is None) != (r["paper_gev"] is None)]
    return {"files": [csv_path, str(md_path)], "rows": rows,
            "largest_deviation": None if worst is None else
            {"experiment": worst["experiment"], "model": worst["model"],
             "relative_deviation": worst["relative_deviation"]},
            "sensitivity_mismatch": mismatched}


# --------------------------------------------------------------------------- registry and entry points


FIGURES: dict[str, tuple[str, Callable[[_Context], dict]]] = {
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
MG_FIGURES = ("light-fig2", "light-fig3", "light-fig4", "light-fig5")    # the (m, g) figures (overlays)


def _check_figures(figures) -> list[str]:
    if figures is None:
        return list(FIGURES)
    names = [figures] if isinstance(figures, str) else list(figures)
    if not names:
        raise ValueError(f"--figure: give at least one figure name (or --all); valid names: {', '.join(FIGURES)}")
    bad = [n for n in names if n not in FIGURES]
    if bad:
        raise ValueError(f"--figure: unknown figure name(s) {', '.join(map(repr, bad))}; "
                         f"valid names: {', '.join(FIGURES)}")
    return list(dict.fromkeys(names))


def main_reproduce(figures: list[str] | None, out_dir, quick: bool = False, overlays: list[str] | None = None,
                   progress=sys.stderr, *, experiments: list[str] | None = None) -> dict:
    """Regenerate the figures ``figures`` (None: all of :data:`FIGURES`) into ``out_dir``.

    Args:
      figures: names from :data:`FIGURES` (ValueError listing the valid names otherwise).
      out_dir: output folder (created).
      quick: coarse grids (:data:`QUICK`) instead of :data:`FULL`.
      overlays: CSV files of existing bounds (:func:`read_overlay`), drawn on the (m, g) figures.
      progress: stream for the progress bar (None: silent).
      experiments: restrict the heavy-Z' experiment lists to these names (testing; None: all).
    Returns a JSON-ready dict: ``out_dir``, ``quick``, ``figures`` (per figure: ``description``,
    ``files``, ``seconds`` and its key numbers), ``wall_s``.
    """
    names = _check_figures(figures)
    loaded = []
    for path in overlays or []:
        loaded.extend(read_overlay(path))
    if experiments is not None:
        unknown = [n for n in experiments if n not in TABLE_EXPERIMENTS]
        if unknown:
            raise ValueError(f"experiments: unknown heavy-Z' experiment(s) {unknown}; "
                             f"allowed: {', '.join(TABLE_EXPERIMENTS)}")
    if out_dir is None or str(out_dir) == "":
        raise ValueError("--out: an output folder is required")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"--out {out}: cannot create the folder: {err}") from None
    bar = _Progress(progress, len(names))
    ctx = _Context(out, QUICK if quick else FULL, loaded, bar,
                   None if experiments is None else frozenset(experiments))
    t0 = time.perf_counter()
    results = {}
    for k, name in enumerate(names, start=1):
        description, fn = FIGURES[name]
        bar.start(k, name)
        res = fn(ctx)
        res = {"description": description, **res, "seconds": round(bar.done(), 2)}
        results[name] = res
    return {"out_dir": str(out), "quick": bool(quick), "figures": results,
            "overlays": [{"label": o.label, "file": o.source, "closed": o.closed, "points": int(o.mass_mev.size),
                          "figures": list(o.figures) or list(MG_FIGURES)} for o in loaded],
            "wall_s": round(time.perf_counter() - t0, 2)}


def add_arguments(sp) -> None:
    """Add the ``reproduce`` options to an argparse subparser (and ``func`` = :func:`run_from_args`)."""
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--figure", action="append", metavar="NAME",
                       help="figure to regenerate (repeatable): " + ", ".join(FIGURES))
    group.add_argument("--all", action="store_true", help="regenerate every figure and Table III")
    sp.add_argument("--quick", action="store_true", help="coarse grids: the whole set in a few minutes on 2 cores")
    sp.add_argument("--overlay", action="append", metavar="FILE",
                    help="CSV of an existing bound (columns mass_mev,coupling[,label][,figure]; a closed region "
                         "when the first point equals the last), drawn on the (m, g) figures; repeatable")
    sp.add_argument("--out", required=True, help="output folder for the PNG, CSV and Markdown files")
    sp.set_defaults(func=run_from_args)


def run_from_args(args) -> dict:
    """Run :func:`main_reproduce` from parsed ``reproduce`` arguments (respects ``--quiet``)."""
    return main_reproduce(None if getattr(args, "all", False) else args.figure, args.out, quick=args.quick,
                          overlays=args.overlay, progress=None if getattr(args, "quiet", False) else sys.stderr)
