"""Coverage-correct limits: a Neyman construction with Feldman-Cousins ordering from vmapped toys.

Along a line of fixed mass (light models) or fixed cos beta (heavy) the analysis depends on one
parameter, the polynomial variable x >= 0 (x = g^2, or gamma = (M_Z/M_Z')^2; ``rates.counts_polynomial``
gives every measurement's counts as c0 + c1 x + c2 x^2). The Feldman-Cousins (likelihood-ratio) statistic
of a data set at a tested x is

    q(x) = chi2_prof(x) - min_{x' >= 0} chi2_prof(x'),

chi2_prof profiled over every nuisance (the analysis' own profile, shared nuisances jointly); the
minimum is taken on a log-spaced grid in t (x = 10^(slope t + offset), the axis of :mod:`.limits`) plus
x = 0, refined by golden-section search around the best grid point. The critical value q_c(x) is the
``cl`` quantile of q(x) over pseudo-experiments generated at x:

- every nuisance drawn from its constraint, N(nominal, sigma), normalisation factors truncated at 0
  (the hybrid, "unconditional" ensemble; the constraint centres of the fit stay at the nominal values);
- every bin drawn from a Poisson distribution around the expected counts at x and those nuisances
  (``likelihood.toy_mean``, clipped at 0: interpolated shape nuisances can push a bin's mean below it);
- each toy profiled like the data (:func:`fc_statistic`).

The confidence set at a fixed mass is {x : q_obs(x) <= q_c(x)}; the limit is its first edge coming from
the SM, found where q_obs - q_c changes sign on test points around the Wilks limit (linear in t between
them). Wilks' theorem would put q_c = 2.71 at 90% CL everywhere; near the boundary x = 0 and at low counts
it does not hold (Denton & Gehrlein, arXiv:2008.06062). The Gaussian forms of eqs. 21-23 have no toys
(an error names them): eqs. 21-22 have non-Poisson variances, and eq. 23 divides by the data themselves,
a Neyman chi^2 whose toys are biased by about a count per bin (its delta N = sqrt(N) is the Asimov one's).

Everything is vmapped over the toys and ``lax.map``-ped over test points and masses: one compiled program
per analysis shape, whatever the number of masses.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..likelihood import as_analysis
from ..likelihood.combine import profile_signals
from ..likelihood.measurement import Analysis, Measurement, nuisance_layout
from .scan import WARM_PASSES, RowContext, row_scan, signal_at

GRID_POINTS = 16          # grid of the minimum over x' (plus x' = 0)
GOLDEN_STEPS = 16         # golden-section refinement: the bracket shrinks by 0.618^16 = 4.6e-4
TOY_BATCH = 2048          # toys profiled at once (memory: batch x grid x bins)
# test points of the critical value around the Wilks limit, in t (log10 g or log10 M): a factor 2 each way
TEST_OFFSETS = np.linspace(-0.3, 0.3, 7)
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0


def check_forms(analysis) -> None:
    """Toys need a Poisson likelihood form in every measurement (module docstring); an error names --method."""
    for m in as_analysis(analysis):
        if not hasattr(m.likelihood, "toy_mean"):
            raise InputError(f"--method: toys need a Poisson likelihood (pulls-poisson, templates-poisson); "
                             f"{m.name} uses {m.likelihood.form} ({m.likelihood.equation}): use the default "
                             "(Wilks) method")


def _signals(polys, x):
    return [signal_at(c, x) for c in polys]


def _chi2(analysis: Analysis, polys, x, method):
    return profile_signals(_signals(polys, x), analysis, method).value


def _x_of(t, axis):
    slope, offset = axis
    return 10.0 ** (slope * t + offset)


def fc_statistic(analysis: Analysis, polys, x_test, t_range, axis, method: str = "fast"):
    """q(x_test) = chi2(x_test) - min_{x >= 0} chi2 of one data set (module docstring); the analysis'
    references are ignored (absolute chi^2). Returns (q, x at the minimum). jit/vmap friendly.

    The grid, x = 0 and x_test are profiled along increasing x, each point warm-started from the last
    (:func:`scan.row_scan`, the scans' own interface); every golden-section point is warm-started from
    the best grid point. Analyses with shared nuisances are profiled jointly from scratch at every point.
    """
    analysis = analysis.absolute()
    t_grid = jnp.linspace(t_range[0], t_range[1], GRID_POINTS)
    xs = jnp.concatenate([jnp.stack([jnp.zeros_like(x_test), x_test]), _x_of(t_grid, axis)])
    if analysis.shared:
        values = jax.vmap(lambda x: _chi2(analysis, polys, x, method))(xs)

        def chi2_near(t):
            return _chi2(analysis, polys, _x_of(t, axis), method)
    else:
        ctx = RowContext(None, analysis, None, coeffs=polys)
        order = jnp.argsort(xs)
        (sorted_values, _, _), states = row_scan(ctx, xs[order], WARM_PASSES)
        values = jnp.zeros_like(sorted_values).at[order].set(sorted_values)
        rank = jnp.argsort(order)[jnp.argmin(values[2:]) + 2]          # the best grid point's place in the row
        best_state = jax.tree_util.tree_map(lambda a: a[rank], states)

        def chi2_near(t):
            return ctx.combine(ctx.solve(best_state, _x_of(t, axis), WARM_PASSES, cold=jnp.zeros((), bool)))[0]

    at_zero, at_test, on_grid = values[0], values[1], values[2:]
    i = jnp.argmin(on_grid)
    lo, hi = t_grid[jnp.maximum(i - 1, 0)], t_grid[jnp.minimum(i + 1, GRID_POINTS - 1)]

    def golden(_, state):                    # one new evaluation per step: the other interior point is kept
        a, b, c, d, fc, fd = state
        left = fc < fd                       # the minimum is in [a, d]: d -> b, c -> d, new c
        a, b = jnp.where(left, a, c), jnp.where(left, d, b)
        t_new = jnp.where(left, b - _GOLD * (b - a), a + _GOLD * (b - a))
        f_new = chi2_near(t_new)
        c, d, fc, fd = (jnp.where(left, t_new, d), jnp.where(left, c, t_new),
                        jnp.where(left, f_new, fd), jnp.where(left, fc, f_new))
        return a, b, c, d, fc, fd

    c0, d0 = hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo)
    fc0, fd0 = jax.vmap(chi2_near)(jnp.stack([c0, d0]))
    _, _, c, d, fc, fd = jax.lax.fori_loop(0, GOLDEN_STEPS, golden, (lo, hi, c0, d0, fc0, fd0))
    t_best, refined = jnp.where(fc < fd, c, d), jnp.minimum(fc, fd)
    candidates = jnp.stack([at_zero, on_grid[i], refined])
    x_candidates = jnp.stack([jnp.zeros_like(x_test), _x_of(t_grid[i], axis), _x_of(t_best, axis)])
    k = jnp.argmin(candidates)
    return jnp.maximum(at_test - candidates[k], 0.0), x_candidates[k]


def _constraints(analysis: Analysis):
    """Nominal values and constraint widths of the union of nuisances (the first owner's, by name)."""
    names, index = nuisance_layout(analysis)
    nominal = jnp.zeros(len(names), dtype=jnp.result_type(float))
    sigma = jnp.zeros(len(names), dtype=jnp.result_type(float))
    for m, idx in reversed(list(zip(analysis, index))):          # the first owner written last
        if idx.size:
            nominal = nominal.at[idx].set(m.likelihood.nominal())
            sigma = sigma.at[idx].set(m.likelihood.sigmas())
    return nominal, sigma, index


def pseudo_data(key, analysis: Analysis, signals, n_toys: int):
    """Toy data of every measurement at the expected ``signals``: nuisances drawn from their constraints
    (normalisations truncated at 0), then Poisson counts per bin. A tuple of (n_toys, B) arrays."""
    nominal, sigma, index = _constraints(analysis)
    k_nu, *k_bins = jax.random.split(key, len(analysis) + 1)
    drawn = nominal[None] + sigma[None] * jax.random.normal(k_nu, (n_toys, nominal.shape[0]), dtype=nominal.dtype)
    drawn = jnp.where(nominal[None] > 0, jnp.maximum(drawn, 0.0), drawn)
    out = []
    for m, idx, s, k in zip(analysis, index, signals, k_bins):
        mean = jax.vmap(lambda nu, m=m, s=s: m.likelihood.toy_mean(nu, s))(drawn[:, jnp.asarray(idx, dtype=int)])
        out.append(jax.random.poisson(k, jnp.maximum(mean, 0.0)).astype(mean.dtype))
    return tuple(out)


def _with_data(analysis: Analysis, data) -> Analysis:
    return Analysis(tuple(Measurement(m.kernel, m.likelihood, d, jnp.zeros((), d.dtype), asimov=False)
                          for m, d in zip(analysis, data)))


def toy_statistics(key, analysis: Analysis, polys, x_test, n_toys: int, t_range, axis, method: str = "fast"):
    """q(x_test) of ``n_toys`` pseudo-experiments generated at x_test, (n_toys,) (vmapped in batches)."""
    signals = _signals(polys, x_test)
    n_batches = -(-n_toys // TOY_BATCH)
    batch = -(-n_toys // n_batches)              # n_batches x batch >= n_toys, padding < n_batches

    def one_batch(k):
        data = pseudo_data(k, analysis, signals, batch)
        return jax.vmap(lambda d: fc_statistic(_with_data(analysis, d), polys, x_test, t_range, axis, method)[0])(
            data)

    q = jax.lax.map(one_batch, jax.random.split(key, n_batches))
    return q.reshape(-1)[:n_toys]


def quantile_with_error(q, cl: float):
    """The ``cl`` quantile of toy statistics ``q`` (..., N) -- the order statistic of rank ceil(N cl), the
    smallest with at least a fraction cl of the toys at or below it -- and its Monte-Carlo error: half the
    distance of the order statistics at ranks N cl +- sqrt(N cl (1 - cl)) (the binomial spread of the rank)."""
    n = q.shape[-1]
    s = jnp.sort(q, axis=-1)
    spread = math.sqrt(n * cl * (1.0 - cl))
    lo, mid, hi = (int(min(max(math.ceil(n * cl + d - 1e-9) - 1, 0), n - 1)) for d in (-spread, 0.0, spread))
    return s[..., mid], 0.5 * (s[..., hi] - s[..., lo])


def _at_point(key, analysis, polys, t, t_range, n_toys, cl, axis, method):
    """(observed q, critical q_c, its Monte-Carlo error) at one test point t of one fixed value."""
    x = _x_of(t, axis)
    q_obs = fc_statistic(analysis, polys, x, t_range, axis, method)[0]
    crit, err = quantile_with_error(toy_statistics(key, analysis, polys, x, n_toys, t_range, axis, method), cl)
    return jnp.stack([q_obs, crit, err])


def _line(key, analysis, polys, t_tests, t_range, *, n_toys, cl, axis, method):
    """Observed q, critical q_c and its error at the test points of one fixed value: (3, T)."""
    keys = jax.random.split(key, t_tests.shape[0])
    return jax.lax.map(lambda a: _at_point(a[1], analysis, polys, a[0], t_range, n_toys, cl, axis, method),
                       (t_tests, keys)).T


_line_jit = jax.jit(_line, static_argnames=("n_toys", "cl", "axis", "method"))


def _map(mass_keys, analysis, masses, t_couplings, t_range, *, model, n_toys, cl, method):
    """(3, M, G): observed q, q_c and its error at every (mass, coupling) of a light model's grid
    (``mass_keys``: one PRNG key per mass)."""
    from ..kernels.rates import counts_polynomial
    from .limits import LIGHT_AXIS

    def per_mass(args):
        mass, k = args
        polys = [counts_polynomial(m.kernel, model, mass) for m in analysis]
        keys = jax.random.split(k, t_couplings.shape[0])
        return jax.lax.map(lambda a: _at_point(a[1], analysis, polys, a[0], t_range, n_toys, cl, LIGHT_AXIS,
                                               method), (t_couplings, keys))

    return jnp.moveaxis(jax.lax.map(per_mass, (masses, mass_keys)), -1, 0)


_map_jit = jax.jit(_map, static_argnames=("model", "n_toys", "cl", "method"))


def critical_map(analysis, model, masses_mev, couplings, *, n_toys: int, cl: float, coupling_range, seed: int = 0,
                 method: str = "fast", part: slice | None = None):
    """The critical Delta chi^2 on a (mass, coupling) grid of a light model and the region it gives.

    Every grid point gets its own toys (``n_toys``), so a coarse grid is the practical one. Returns a dict:
    ``delta_chi2_obs`` (M, G) (q of the data, per mass), ``critical_delta_chi2`` and ``critical_error``
    (M, G), ``excess`` = q_obs - q_c (the region excluded at ``cl`` is excess > 0; its zero contour is
    the boundary), ``compile_s``, ``run_s``, ``toys``. ``part``: only these mass rows (a slice; each mass
    keeps its own PRNG key, so the rows are those of the whole map), NaN elsewhere.
    """
    import time

    analysis = as_analysis(analysis)
    check_forms(analysis)
    masses = np.asarray(masses_mev, dtype=float)
    rows = np.arange(masses.size)[slice(None) if part is None else part]
    mass_keys = jax.random.split(jax.random.PRNGKey(seed), masses.size)
    t_couplings = jnp.log10(jnp.asarray(couplings, dtype=float))
    t_range = jnp.log10(jnp.asarray(coupling_range, dtype=float))
    full = np.full((3, masses.size, t_couplings.shape[0]), np.nan)
    compile_s = run_s = 0.0
    if rows.size:
        args = (mass_keys[rows], analysis, jnp.asarray(masses[rows]), t_couplings, t_range)
        t0 = time.perf_counter()
        compiled = _map_jit.lower(*args, model=model, n_toys=n_toys, cl=cl, method=method).compile()
        t1 = time.perf_counter()
        full[:, rows] = np.asarray(compiled(*args))
        compile_s, run_s = t1 - t0, time.perf_counter() - t1
    q_obs, crit, err = full
    return {"delta_chi2_obs": q_obs, "critical_delta_chi2": crit, "critical_error": err, "excess": q_obs - crit,
            "compile_s": compile_s, "run_s": run_s, "toys": int(n_toys * rows.size * t_couplings.shape[0])}


WINDOW_SHIFTS = 3         # further test windows, beyond the edge on the crossing's side, to bracket the limit


def crossing(t_tests, q_obs, q_crit, increasing: bool = True):
    """(t, status): the first t (coming from the SM side) where q_obs - q_crit turns positive, linear between
    test points; NaN with "below-test-points" where it is positive already at the first test point, or
    "above-test-points" where it never turns positive."""
    order = np.argsort(t_tests) if increasing else np.argsort(-np.asarray(t_tests))
    t, d = np.asarray(t_tests)[order], (np.asarray(q_obs) - np.asarray(q_crit))[order]
    if d[0] > 0:
        return math.nan, "below-test-points"
    for j in range(1, len(t)):
        if d[j] > 0:
            return float(t[j - 1] + (t[j] - t[j - 1]) * (0.0 - d[j - 1]) / (d[j] - d[j - 1])), "limit"
    return math.nan, "above-test-points"


def toy_limits(analysis, model, fixed_values, t_wilks, *, n_toys: int, cl: float, t_range, axis,
               increasing: bool = True, seed: int = 0, method: str = "fast", progress=None):
    """Feldman-Cousins limits at each fixed value (mass [MeV] or cos beta) from the Wilks ones ``t_wilks``
    (log10 g or log10 M [GeV]; NaN: no test points, the limit stays null).

    The test points are ``TEST_OFFSETS`` around the Wilks limit (``increasing``: t grows away from the SM,
    as log10 g; else it falls, as log10 M); where the crossing is not bracketed a further window continues
    one step beyond the edge on the crossing's side, at most ``WINDOW_SHIFTS`` times, the crossing sought
    over every test point seen. One program, compiled ahead of the first fixed value.

    Returns a dict: per fixed value lists ``t`` (the limit, NaN where not found), ``status`` ("limit",
    "below-test-points", "above-test-points", "no-wilks-limit"), ``critical_delta_chi2`` and
    ``critical_error`` (q_c interpolated at the limit), ``tests`` (``t``, ``q_obs``, ``q_crit``,
    ``q_crit_error`` at every test point used); and ``compile_s``, ``run_s``, ``toys`` (profiled toys run).
    """
    import time

    from ..io.progress import progress_bar
    from ..kernels.rates import counts_polynomial

    analysis = as_analysis(analysis)
    check_forms(analysis)
    if n_toys < 100:
        raise InputError(f"--toys: at least 100 toys are needed for a {cl:g} quantile, got {n_toys}")
    key = jax.random.PRNGKey(seed)
    t_range = jnp.asarray(t_range, dtype=float)
    sign = 1.0 if increasing else -1.0
    width = float(TEST_OFFSETS[-1] - TEST_OFFSETS[0])
    step = float(TEST_OFFSETS[1] - TEST_OFFSETS[0])
    out = {k: [] for k in ("t", "status", "critical_delta_chi2", "critical_error", "tests")}
    compiled, compile_s, run_s, n_run = None, 0.0, 0.0, 0
    bar = progress_bar(f"toys ({n_toys} x {len(TEST_OFFSETS)} per point)", len(fixed_values), progress, "point")
    for i, (fixed, tw) in enumerate(zip(fixed_values, t_wilks)):
        t_lim, status, crit, err, tests = math.nan, "no-wilks-limit", math.nan, math.nan, []
        if np.isfinite(tw):
            polys = [counts_polynomial(m.kernel, model, fixed) for m in analysis]
            centre = float(tw)
            seen = np.zeros((4, 0))                                       # t, q_obs, q_crit, q_err so far
            for shift in range(WINDOW_SHIFTS + 1):
                t_tests = jnp.asarray(centre + sign * TEST_OFFSETS)
                args = (jax.random.fold_in(key, 1000 * i + shift), analysis, polys, t_tests, t_range)
                if compiled is None:
                    t0 = time.perf_counter()
                    compiled = _line_jit.lower(*args, n_toys=n_toys, cl=cl, axis=axis, method=method).compile()
                    compile_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                q_obs, q_crit, q_err = np.asarray(compiled(*args))
                run_s += time.perf_counter() - t0
                n_run += n_toys * len(TEST_OFFSETS)
                tt = np.asarray(t_tests)
                tests.append({"t": tt.tolist(), "q_obs": q_obs.tolist(), "q_crit": q_crit.tolist(),
                              "q_crit_error": q_err.tolist()})
                seen = np.concatenate([seen, np.stack([tt, q_obs, q_crit, q_err])], axis=1)
                t_lim, status = crossing(seen[0], seen[1], seen[2], increasing)   # over every window so far
                if status == "limit":
                    order = np.argsort(seen[0])
                    crit = float(np.interp(t_lim, seen[0][order], seen[2][order]))
                    err = float(np.interp(t_lim, seen[0][order], seen[3][order]))
                    break
                # the next window continues one step beyond the edge of those seen, on the side of the crossing
                edge = seen[0].min() if (status == "below-test-points") == increasing else seen[0].max()
                centre = edge + (width / 2 + step) * (-1.0 if (status == "below-test-points") == increasing else 1.0)
        for k, v in (("t", t_lim), ("status", status), ("critical_delta_chi2", crit), ("critical_error", err),
                     ("tests", tests)):
            out[k].append(v)
        bar.update(1)
    bar.close()
    out.update(compile_s=compile_s, run_s=run_s, toys=n_run)
    return out
