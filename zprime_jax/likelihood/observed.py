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

Statistics with observed data (eq. 4.1 with the data n_i in place of the
Asimov counts). With chi2(theta) the chi^2 minimised over the pulls
(xi_S, xi_B) of every experiment at the Z' parameters theta = (m, g):

* chi2_SM = chi2 at g = 0 (the Standard Model; the same for every mass);
* chi2_best = min over theta (and the pulls) of chi2: the best fit, found by
  :func:`best_fit` (a log-spaced grid, then damped Newton in (log10 m,
  log10 g)); if the SM fits at least as well, the best fit is the SM;
* the exclusion uses Delta chi2(theta) = chi2(theta) - chi2_best (>= 0), at
  90% CL the region Delta chi2 >= 2.7055 at each mass, as for the Asimov
  sensitivity; Delta chi2_SM = chi2_SM - chi2_best measures the preference
  for a Z' signal over the SM (a goodness-of-fit test statistic with
  2 parameters, the mass being undefined under the SM).

:class:`stats.Measurement` subtracts ``chi2_ref`` per experiment, so to get
Delta chi2 relative to the best fit in a combined analysis each experiment's
``chi2_ref`` is its own chi^2 at the common best-fit point
(:func:`reference_to_best_fit`); the references sum to chi2_best. Then
:func:`scan.coupling_limits` and :func:`scan.delta_chi2_grid` give the
observed exclusion directly.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..kernels.rates import expected_counts
from ..likelihood.stats import Measurement, chi2_with_pulls, profile_pulls
from ..physics.models import LightZPrime

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
        raise ValueError(f"{where}: {field}: not a list of numbers ({err})") from None
    name = getattr(kernel, "name", "") or "the experiment"
    if arr.ndim != 1 or arr.size != kernel.n_bins:
        got = arr.size if arr.ndim == 1 else f"an array of shape {arr.shape}"
        raise ValueError(f"{where}: {field}: expected {kernel.n_bins} bins for {name!r} "
                         f"({_edges_text(kernel)}), got {got}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{where}: {field}: counts must be finite; bins {np.flatnonzero(bad).tolist()} are not")
    neg = arr < 0
    if neg.any():
        raise ValueError(f"{where}: {field}: counts must be >= 0; bins {np.flatnonzero(neg).tolist()} are "
                         f"negative ({arr[neg].tolist()})")
    return arr


def _check_edges(edges, kernel, where: str, field: str) -> None:
    ref = np.asarray(kernel.edges_kev, dtype=float)
    arr = np.asarray(edges, dtype=float)
    if arr.shape != ref.shape:
        raise ValueError(f"{where}: {field}: expected {_edges_text(kernel)} for {kernel.name!r}, "
                         f"got {arr.size} values")
    if not np.all(np.isfinite(arr)) or not np.allclose(arr, ref, rtol=EDGE_RTOL, atol=0.0):
        i = int(np.argmax(~np.isclose(arr, ref, rtol=EDGE_RTOL, atol=0.0)))
        raise ValueError(f"{where}: {field}: edge {i} is {arr[i]!r} keV but {kernel.name!r} has "
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
        raise ValueError(f"{path}: count: the file has no data rows")
    header = None
    if any(_number(c) is None for c in rows[0]):
        header = [c.lower() for c in rows[0]]
        rows = rows[1:]
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise ValueError(f"{path}: columns: unknown column(s) {unknown}; allowed: {list(CSV_COLUMNS)}")
        dup = sorted({c for c in header if header.count(c) > 1})
        if dup:
            raise ValueError(f"{path}: columns: repeated column(s) {dup}")
        if "count" not in header:
            raise ValueError(f"{path}: count: required column missing (header: {header})")
        if ("lo_kev" in header) != ("hi_kev" in header):
            raise ValueError(f"{path}: lo_kev/hi_kev: give both bin-edge columns or neither (header: {header})")
    else:
        if len(rows[0]) != 1:
            raise ValueError(f"{path}: columns: {len(rows[0])} columns without a header; give a header "
                             f"naming them ({list(CSV_COLUMNS)}) or a single column of counts")
        header = ["count"]
    table = {c: [] for c in header}
    for i, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise ValueError(f"{path}: columns: data row {i} has {len(row)} values for {len(header)} "
                             f"columns {header}")
        for c, text in zip(header, row):
            value = _number(text)
            if value is None:
                raise ValueError(f"{path}: {c}: data row {i}: {text!r} is not a number")
            table[c].append(value)
    counts = check_counts(table["count"], kernel, str(path), "count")
    if "lo_kev" in table:
        lo, hi = np.asarray(table["lo_kev"]), np.asarray(table["hi_kev"])
        if lo.size > 1 and not np.allclose(lo[1:], hi[:-1], rtol=EDGE_RTOL, atol=0.0):
            raise ValueError(f"{path}: lo_kev/hi_kev: bins are not contiguous (each lo_kev must equal "
                             f"the previous hi_kev)")
        _check_edges(np.append(lo, hi[-1]), kernel, str(path), "lo_kev/hi_kev")
    return counts


def _json_numbers(values, path: Path, field: str):
    if not isinstance(values, list):
        raise ValueError(f"{path}: {field}: expected a list of numbers, got {type(values).__name__}")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{path}: {field}: element {i} ({v!r}) is not a number")
    return values


def _read_json(path: Path, kernel) -> np.ndarray:
    try:
        obj = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if isinstance(obj, list):
        return check_counts(_json_numbers(obj, path, "counts"), kernel, str(path), "counts")
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: counts: expected an object with 'counts' or a list of counts, "
                         f"got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(JSON_KEYS))
    if unknown:
        raise ValueError(f"{path}: keys: unknown key(s) {unknown}; allowed: {list(JSON_KEYS)}")
    if "counts" not in obj:
        raise ValueError(f"{path}: counts: required key missing")
    exp = obj.get("experiment")
    if exp is not None and kernel.name and exp != kernel.name:
        raise ValueError(f"{path}: experiment: the file is for {exp!r} but the analysis uses {kernel.name!r}")
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
        raise ValueError(f"{path}: data file not found")
    text = path.read_text()
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


def _check_form(kernel) -> None:
    form = getattr(kernel, "chi2_form", "pulls-poisson")
    if form != "pulls-poisson":
        raise ValueError(f"experiment: {kernel.name!r} uses the chi2 form {form!r}; observed data and "
                         "the posterior support the eq. 4.1 'pulls-poisson' form only")


def _profile(signal, kernel, data):
    return profile_pulls(signal, kernel.background, data, kernel.sigma_signal, kernel.sigma_background)


@jax.jit
def _sm_chi2(kernel, data):
    from ..physics.models import MODELS

    return _profile(expected_counts(None, kernel, MODELS["sm"]), kernel, data).chi2


def observed_measurement(kernel, counts, chi2_ref=None) -> Measurement:
    """A :class:`stats.Measurement` with observed ``counts`` (B,).

    ``chi2_ref`` defaults to the chi^2 of these data under the SM (pulls
    profiled), so that ``stats.delta_chi2`` is Delta chi2 relative to the SM
    (it can be negative where a Z' fits better). For the exclusion relative
    to the best fit use :func:`reference_to_best_fit`.
    """
    _check_form(kernel)
    data = jnp.asarray(check_counts(counts, kernel))
    if chi2_ref is None:
        chi2_ref = _sm_chi2(kernel, data)
    return Measurement(kernel=kernel, data=data, chi2_ref=jnp.asarray(chi2_ref, dtype=data.dtype))


def _absolute(measurements):
    """The same measurements with chi2_ref = 0 (so Delta chi2 is the absolute chi^2)."""
    return tuple(Measurement(m.kernel, m.data, jnp.zeros_like(jnp.asarray(m.chi2_ref))) for m in measurements)


@partial(jax.jit, static_argnums=2)
def _evaluate(x, measurements, model):
    """Profiled chi^2 at x = (log10 m [MeV], log10 g): per experiment, its gradient and Hessian in x.

    The pulls are profiled per experiment (:func:`stats.profile_pulls`); the
    derivatives of the profiled chi^2 follow from the joint derivatives of
    eq. 4.1 in (x, pulls) at the profiled pulls: gradient = d chi2/dx
    (envelope theorem), Hessian = H_xx - H_xp H_pp^-1 H_px (Schur complement;
    exact at converged pulls). Returns (parts (E,), converged, grad (2,), hess (2, 2)).
    x[1] = -inf gives the SM (g = 0); its derivatives are then meaningless.
    """
    def signals(x):
        params = LightZPrime(10.0 ** x[0], 10.0 ** x[1])
        return [expected_counts(params, m.kernel, model) for m in measurements]

    profs = [_profile(sig, m.kernel, m.data) for sig, m in zip(signals(x), measurements)]
    xi = jax.lax.stop_gradient(jnp.concatenate([p.xi for p in profs]))

    def joint(z):
        total = 0.0
        for i, (sig, m) in enumerate(zip(signals(z[:2]), measurements)):
            k = m.kernel
            total = total + chi2_with_pulls(z[2 + 2 * i:4 + 2 * i], sig, k.background, m.data,
                                            k.sigma_signal, k.sigma_background)
        return total

    z = jnp.concatenate([x, xi])
    grad = jax.grad(joint)(z)
    h = jax.hessian(joint)(z)
    hess = h[:2, :2] - h[:2, 2:] @ jnp.linalg.solve(h[2:, 2:], h[2:, :2])
    parts = jnp.stack([p.chi2 for p in profs])
    return parts, jnp.all(jnp.stack([p.converged for p in profs])), grad[:2], hess


def _value(x, measurements, model) -> float:
    return float(jnp.sum(_evaluate(jnp.asarray(x), measurements, model)[0]))


def _refine(x0, measurements, model, lo, hi, max_steps: int, tol: float):
    """Damped (Levenberg-Marquardt) Newton in (log10 m, log10 g) inside the box [lo, hi].

    Returns (x, chi2, steps, converged): converged when a step changes chi^2
    by less than ``tol`` or no damping gives a decrease (a minimum, possibly
    on the box boundary).
    """
    x = np.clip(np.asarray(x0, dtype=float), lo, hi)
    f = _value(x, measurements, model)
    for step in range(1, max_steps + 1):
        g, h = (np.asarray(a) for a in _evaluate(jnp.asarray(x), measurements, model)[2:])
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            return x, f, step, False
        # Coordinates pinned at the box boundary with the gradient pushing outwards are frozen.
        free = ~(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
        if not free.any():
            return x, f, step, True
        scale = max(float(np.max(np.abs(np.diag(h)))), 1e-12)
        moved = False
        for lam in (0.0, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4):
            hh = h[np.ix_(free, free)] + lam * scale * np.eye(int(free.sum()))
            try:
                d = -np.linalg.solve(hh, g[free])
            except np.linalg.LinAlgError:
                continue
            if not np.all(np.isfinite(d)) or g[free] @ d >= 0:
                continue
            d = np.clip(d, -1.0, 1.0)                      # at most one decade per step
            trial = x.copy()
            trial[free] += d
            trial = np.clip(trial, lo, hi)
            f_new = _value(trial, measurements, model)
            if np.isfinite(f_new) and f_new < f:
                moved, x_old, x, f_old, f = True, x, trial, f, f_new
                break
        if not moved:
            return x, f, step, True
        if f_old - f < tol and np.max(np.abs(x - x_old)) < 1e-6:
            return x, f, step, True
    return x, f, max_steps, False


def best_fit(measurements, model, mass_range_mev=(1.0, 1e3), coupling_range=(1e-7, 1e-2),
             n_mass: int = 31, n_coupling: int = 161, n_starts: int = 3, max_steps: int = 60,
             tol: float = 1e-9, sm_tol: float = 1e-6, progress=sys.stderr) -> dict:
    """Global best fit of a light Z' to the data of ``measurements`` (eq. 4.1, pulls profiled).

    A log-spaced grid of ``n_mass`` masses [MeV] x ``n_coupling`` couplings
    over the ranges (:func:`scan.delta_chi2_grid`, absolute chi^2) seeds a
    damped Newton refinement in (log10 m, log10 g) on the autodiff gradient
    and Hessian, started from the ``n_starts`` best grid points with
    different masses. The SM (g = 0) is compared as well: when it is worse
    than the fit by less than ``sm_tol`` (chi^2 units; rounding level for
    Asimov-like data) the best fit is the SM.

    Args:
      measurements: sequence of :class:`stats.Measurement` (their ``chi2_ref``
        is ignored).
      model: a light Z' model (e.g. ``models.get_model("universal")``).

    Returns a JSON-friendly dict:
      ``mass_mev``, ``coupling``: the best fit (``mass_mev`` None and
      ``coupling`` 0.0 when the SM fits at least as well: ``at_sm`` True);
      ``chi2_best``, ``chi2_sm``, ``delta_chi2_sm`` (= chi2_sm - chi2_best >= 0);
      ``chi2_best_per_experiment``, ``chi2_sm_per_experiment`` (lists, one
      per measurement, summing to the totals); ``at_boundary`` (the fit
      point touches the edge of the mass or coupling range); ``converged``
      (the refinement stopped at a minimum and every pull fit converged);
      ``steps`` (Newton steps of the winning start); ``mass_range_mev``,
      ``coupling_range``.
    """
    from ..inference.scan import delta_chi2_grid

    ms = tuple(measurements)
    for m in ms:
        _check_form(m.kernel)
    absolute = _absolute(ms)
    masses = np.logspace(math.log10(mass_range_mev[0]), math.log10(mass_range_mev[1]), n_mass)
    couplings = np.logspace(math.log10(coupling_range[0]), math.log10(coupling_range[1]), n_coupling)
    grid = delta_chi2_grid(absolute, model, masses, couplings, progress=progress)
    chi2 = np.where(np.isfinite(grid.delta_chi2), grid.delta_chi2, np.inf)
    row_best = np.argmin(chi2, axis=1)
    order = np.argsort(chi2[np.arange(n_mass), row_best])
    lo = np.log10([mass_range_mev[0], coupling_range[0]])
    hi = np.log10([mass_range_mev[1], coupling_range[1]])
    best = None
    for i in order[:n_starts]:
        x0 = np.log10([masses[i], couplings[row_best[i]]])
        x, f, steps, ok = _refine(x0, absolute, model, lo, hi, max_steps, tol)
        if best is None or f < best[1]:
            best = (x, f, steps, ok)
    x, f, steps, ok = best
    parts, pulls_ok = (np.asarray(a) for a in _evaluate(jnp.asarray(x), absolute, model)[:2])
    sm_parts, sm_ok = (np.asarray(a) for a in _evaluate(jnp.asarray([x[0], -np.inf]), absolute, model)[:2])
    at_sm = float(sm_parts.sum()) <= float(parts.sum()) + sm_tol
    if at_sm:
        parts = sm_parts
    return {
        "mass_mev": None if at_sm else float(10.0 ** x[0]),
        "coupling": 0.0 if at_sm else float(10.0 ** x[1]),
        "chi2_best": float(parts.sum()),
        "chi2_sm": float(sm_parts.sum()),
        "delta_chi2_sm": float(sm_parts.sum() - parts.sum()),
        "chi2_best_per_experiment": [float(c) for c in parts],
        "chi2_sm_per_experiment": [float(c) for c in sm_parts],
        "at_sm": bool(at_sm),
        "at_boundary": bool(not at_sm and (np.any(np.isclose(x, lo, atol=1e-9)) or
                                           np.any(np.isclose(x, hi, atol=1e-9)))),
        "converged": bool(ok and bool(pulls_ok) and bool(sm_ok)),
        "steps": int(steps),
        "mass_range_mev": [float(v) for v in mass_range_mev],
        "coupling_range": [float(v) for v in coupling_range],
    }


def reference_to_best_fit(measurements, fit: dict) -> tuple[Measurement, ...]:
    """The measurements with ``chi2_ref`` = each experiment's chi^2 at the common best fit.

    ``fit`` is the dict of :func:`best_fit` for these measurements. Then
    ``stats.delta_chi2``, :func:`scan.coupling_limits` and
    :func:`scan.delta_chi2_grid` return chi2(theta) - chi2_best: the
    observed exclusion.
    """
    refs = fit["chi2_best_per_experiment"]
    ms = tuple(measurements)
    if len(refs) != len(ms):
        raise ValueError(f"fit: chi2_best_per_experiment has {len(refs)} entries for {len(ms)} measurements")
    return tuple(Measurement(m.kernel, m.data, jnp.asarray(r, dtype=jnp.asarray(m.data).dtype))
                 for m, r in zip(ms, refs))


def observed_analysis(kernels, counts, model, **fit_kwargs):
    """Measurements for observed ``counts`` (one array or file path per kernel), referenced to their best fit.

    Returns (measurements, fit): ``measurements`` ready for
    :func:`scan.coupling_limits` / :func:`scan.delta_chi2_grid` (Delta chi2
    relative to the best fit), ``fit`` the dict of :func:`best_fit`.
    """
    kernels = tuple(kernels)
    counts = list(counts)
    if len(counts) != len(kernels):
        raise ValueError(f"data: {len(counts)} data sets for {len(kernels)} experiments")
    arrays = [load_observed_counts(c, k) if isinstance(c, str | Path) else c for c, k in zip(counts, kernels)]
    ms = tuple(observed_measurement(k, c) for k, c in zip(kernels, arrays))
    fit = best_fit(ms, model, **fit_kwargs)
    return reference_to_best_fit(ms, fit), fit
