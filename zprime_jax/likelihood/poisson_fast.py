"""The fast certified profile of eq. 4.1 (light-mediator paper): analytic Newton, one pass over the bins.

See :mod:`.poisson` for the chi^2 and the two profilers.

Safeguards of the fast profile (self-concordance). Each term -2 n_i ln mu_i is
(2/sqrt(2 n_i))-self-concordant, so phi = s chi^2 with
s = 1/(2 min_{n_i > 0} n_i) is standard self-concordant; with
lambda = sqrt(s g^T H^-1 g) (its Newton decrement):
  - the step 1/(1 + lambda) stays feasible and lowers chi^2 (so a rejected
    trial step is never shrunk below it);
  - a full step lowers chi^2 when lambda < 0.25, and the next decrement is
    lambda_+ <= (lambda/(1 - lambda))^2 (the stopping rule);
  - chi^2 - chi^2_min <= (-lambda - ln(1 - lambda))/s for lambda < 1.
And the pulls make chi^2 strongly convex (Hessian >= diag(2/sigma_S^2,
2/sigma_B^2)), so chi^2 - chi^2_min <= (sigma_S^2 g_S^2 + sigma_B^2 g_B^2)/4
everywhere.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import native_pass
from .profile import CONVERGENCE_TOL, Profile

# ---------------------------------------------------------------------------
# Fast profile: analytic derivatives, one pass over the bins per trial point
# ---------------------------------------------------------------------------
FAST_PASSES = 48          # maximum passes (trial points) of a cold-started fast profile
_FULL_STEP_LAMBDA = 0.25  # self-concordant decrement below which a full Newton step is safe


class PullData(NamedTuple):
    """What the fast profile needs of an experiment, precomputed once (a pytree).

    ``scale``: the self-concordance scale s = 1/(2 min_{n_i > 0} n_i) (1 when
    no bin has data); ``background_total``, ``data_total``: sums over bins.
    """

    background: jax.Array
    data: jax.Array
    sigma_signal: jax.Array
    sigma_background: jax.Array
    scale: jax.Array
    background_total: jax.Array
    data_total: jax.Array


def pull_data(background, data, sigma_signal, sigma_background) -> PullData:
    """:class:`PullData` of an experiment (background and data per bin, fractional sigmas)."""
    b = jnp.asarray(background)
    n = jnp.asarray(data)
    n_min = jnp.min(jnp.where(n > 0, n, jnp.inf))
    scale = jnp.where(jnp.isfinite(n_min), 0.5 / n_min, 1.0)
    return PullData(b, n, jnp.asarray(sigma_signal, dtype=n.dtype), jnp.asarray(sigma_background, dtype=n.dtype),
                    scale, jnp.sum(b), jnp.sum(n))


_LN2 = 0.6931471805599453094        # ln 2 (float64)
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # IEEE-754 bits of sqrt(1/2) (float64)
_ATANH_ORDERS = (19, 17, 15, 13, 11, 9, 7, 5, 3)


@jax.custom_jvp
def log_positive(x):
    """ln x of positive ``x``, in arithmetic that XLA:CPU vectorises (its ``log`` is scalar code): the
    logarithms of eq. 4.1 are a third of a warm grid scan (benchmarks/README.md).

    x = 2^k m with m in [sqrt(1/2), sqrt(2)) (k from the exponent bits), ln m = 2 atanh(s) with
    s = (m - 1)/(m + 1), |s| <= 0.1716, by its series to s^21 (the next term is below 2^-60 of the sum):
    within 3 ulp of ``jnp.log`` over the normal float64 range (tests/test_stats.py). +inf gives
    +inf; x below the smallest normal float64 (2.2e-308) is taken as that (ln = -708.4: in eq. 4.1 that
    is n/mu there, with mu > 1e307 n, whose term mu dominates). Other dtypes than float64: ``jnp.log``.
    Derivative: 1/x (a custom JVP: the exponent bits have none).
    """
    if x.dtype != jnp.float64:
        return jnp.log(x)
    tiny = jnp.finfo(jnp.float64).tiny
    bits = jax.lax.bitcast_convert_type(jnp.maximum(x, tiny), jnp.int64)
    k = (bits - _SQRT_HALF_BITS) >> 52
    m = jax.lax.bitcast_convert_type(bits - (k << 52), jnp.float64)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    series = 1.0 / 21.0
    for order in _ATANH_ORDERS:
        series = series * z + 1.0 / order
    value = k.astype(jnp.float64) * _LN2 + 2.0 * s * (series * z + 1.0)
    return jnp.where(x == jnp.inf, jnp.inf, value)


@log_positive.defjvp
def _log_positive_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log_positive(x), dx / x


def bin_sum(x):
    """The sum of ``x`` over its last axis (the bins), as a product with ones.

    Under ``vmap`` that is one matrix-vector product, which XLA:CPU vectorises; a ``jnp.sum`` over the
    bins of a batch is a reduction loop per sum there, and the fast profile's sums over the bins were
    the larger part of a warm grid scan (benchmarks/README.md). A row sums alike at every position in
    a batch and at every batch width of two or more (tests/test_stats.py), so parts of a scan computed
    apart stay bit-identical to the whole.
    """
    return x @ jnp.ones(x.shape[-1], x.dtype)


class _Eval(NamedTuple):
    chi2: jax.Array
    gs: jax.Array
    gb: jax.Array
    hss: jax.Array
    hsb: jax.Array
    hbb: jax.Array


def _bin_sums_xla(xs, xb, signal, pd: PullData, with_chi2: bool):
    """The sums over the bins of one pass of eq. 4.1 in XLA (the reference of the native pass):
    (sum n s^2/mu^2, sum n s b/mu^2, sum n b^2/mu^2, the deviance sum [(mu - n) + n ln(n/mu)] (0 unless
    ``with_chi2``), sum s, feasible), with mu = xi_S s + xi_B b. Bins with n = 0 add mu to the
    deviance and nothing else (also for mu <= 0); feasible: no bin with n > 0 has mu <= 0."""
    b, n = pd.background, pd.data
    mu = xs * signal + xb * b
    pos = n > 0
    feasible = jnp.all((mu > 0) | ~pos)
    v = 1.0 / jnp.where(mu > 0, mu, 1.0)
    rv = n * v * v                              # n/mu^2 (0 where n = 0)
    ss, sb, bb = (bin_sum(term) for term in (rv * signal * signal, rv * signal * b, rv * b * b))
    if with_chi2:
        deviance = bin_sum((mu - n) + n * log_positive(jnp.where(pos, n * v, 1.0)))
    else:
        deviance = jnp.zeros_like(ss)
    return ss, sb, bb, deviance, bin_sum(signal), feasible


@functools.partial(jax.custom_jvp, nondiff_argnums=(4,))
def _bin_sums_native(xs, xb, signal, pd: PullData, with_chi2: bool):
    """:func:`_bin_sums_xla`'s values from the native pass on the CPU (XLA's elsewhere: the platform
    switch), with the derivatives of :func:`_bin_sums_xla` (a forward-mode scan through the solver)."""

    def on_cpu():
        sums, feasible = native_pass.poisson_pass(signal, pd.background, pd.data, xs, xb, with_chi2)
        return (*(sums[..., i] for i in range(native_pass.N_SUMS)), feasible)

    return jax.lax.platform_dependent(cpu=on_cpu, default=lambda: _bin_sums_xla(xs, xb, signal, pd, with_chi2))


@_bin_sums_native.defjvp
def _bin_sums_native_jvp(with_chi2, primals, tangents):
    _, tangent = jax.jvp(lambda *a: _bin_sums_xla(*a, with_chi2), primals, tangents)
    return _bin_sums_native(*primals, with_chi2), tangent


def _bin_sums(xs, xb, signal, pd: PullData, with_chi2: bool, native: bool):
    """:func:`_bin_sums_xla`, or where ``native`` and :func:`.native_pass.usable` the same values from the
    native pass (one loop per point, :func:`_bin_sums_native`)."""
    if native and native_pass.usable(signal.dtype):
        return _bin_sums_native(xs, xb, signal, pd, with_chi2)
    return _bin_sums_xla(xs, xb, signal, pd, with_chi2)


def _evaluate(xs, xb, signal, pd: PullData, with_chi2: bool = True, native: bool = False) -> _Eval:
    """Eq. 4.1 with its analytic gradient and Hessian in (xi_S, xi_B): one pass over the bins.

    chi^2 = 2 sum[mu - n + n ln(n/mu)] + pulls; g_S = 2 sum s (1 - n/mu) - 2 (1 - xi_S)/sigma_S^2;
    H_SS = 2 sum n s^2/mu^2 + 2/sigma_S^2, H_SB = 2 sum n s b/mu^2, and alike for B.
    Bins with n = 0 contribute 2 mu (also for mu <= 0, as :func:`poisson_deviance`);
    mu <= 0 in a bin with n > 0 gives chi^2 = +inf. ``with_chi2=False`` skips
    the logarithms (the costliest part): ``chi2`` is then 0 where feasible, +inf where not.
    ``native``: the sums from the native pass where it is usable (:func:`_bin_sums`; the solver's passes
    ask for it), else XLA's; the derivatives are XLA's either way.

    Three sums over the bins (four with chi^2), not five (six): since mu = xi_S s + xi_B b,
    sum s n/mu = xi_S sum n s^2/mu^2 + xi_B sum n s b/mu^2 (and alike for b), so the gradient is
    g_S = 2 (S - xi_S A - xi_B C) - ... from the Hessian's sums A, C, D and the totals S, B. Its rounding
    is that of the per-bin form (sums of terms >= 0 at positive pulls; ~ulp of S), and at negative pulls
    only where xi_S s and xi_B b nearly cancel in every bin.
    """
    ss, sb, bb, deviance, total, feasible = _bin_sums(xs, xb, signal, pd, with_chi2, native)
    s_n_mu = xs * ss + xb * sb                  # sum s n/mu and sum b n/mu (docstring)
    b_n_mu = xs * sb + xb * bb
    iss = 1.0 / pd.sigma_signal**2
    isb = 1.0 / pd.sigma_background**2
    if with_chi2:
        chi2 = 2.0 * deviance + (1.0 - xs) ** 2 * iss + (1.0 - xb) ** 2 * isb
        chi2 = jnp.where(feasible & jnp.isfinite(chi2), chi2, jnp.inf)
    else:
        chi2 = jnp.where(feasible, 0.0, jnp.inf)
    return _Eval(chi2, 2.0 * (total - s_n_mu) - 2.0 * (1.0 - xs) * iss,
                 2.0 * (pd.background_total - b_n_mu) - 2.0 * (1.0 - xb) * isb,
                 2.0 * ss + 2.0 * iss, 2.0 * sb, 2.0 * bb + 2.0 * isb)


def _newton_step(ev: _Eval):
    """(d_S, d_B, g^T H^-1 g) with d = H^-1 g (the step is -d); l2 = +inf where H is unusable."""
    det = ev.hss * ev.hbb - ev.hsb * ev.hsb
    ds = (ev.hbb * ev.gs - ev.hsb * ev.gb) / det
    db = (ev.hss * ev.gb - ev.hsb * ev.gs) / det
    l2 = ev.gs * ds + ev.gb * db
    ok = jnp.isfinite(ds) & jnp.isfinite(db) & jnp.isfinite(l2) & (det > 0) & jnp.isfinite(ev.chi2)
    zero = jnp.zeros_like(ds)
    return jnp.where(ok, ds, zero), jnp.where(ok, db, zero), jnp.where(ok, l2, jnp.inf)


class SolverState(NamedTuple):
    """State of the fast profile at a point (all per point; a pytree).

    ``xs, xb``: the pulls; ``chi2``: chi^2 there (+inf if infeasible; 0 inside
    the log-free iterations); ``gs, gb``: the gradient; ``ds, db``: the Newton
    step (the next trial is xi - t d); ``l2`` = g^T H^-1 g (twice the
    decrement); ``t``: the next trial fraction; ``passes``: passes used.
    """

    xs: jax.Array
    xb: jax.Array
    chi2: jax.Array
    gs: jax.Array
    gb: jax.Array
    ds: jax.Array
    db: jax.Array
    l2: jax.Array
    t: jax.Array
    passes: jax.Array


def _choose(condition, if_true: SolverState, if_false: SolverState) -> SolverState:
    """The state ``if_true`` where ``condition``, else ``if_false`` (field by field)."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(condition, a, b), if_true, if_false)


def _state(xs, xb, ev: _Eval, passes) -> SolverState:
    ds, db, l2 = _newton_step(ev)
    return SolverState(xs, xb, ev.chi2, ev.gs, ev.gb, ds, db, l2, jnp.ones_like(ev.gs), passes)


def _lambda(st: SolverState, pd: PullData):
    """The self-concordant Newton decrement sqrt(s g^T H^-1 g)."""
    return jnp.sqrt(jnp.maximum(pd.scale * st.l2, 0.0))


def _one_pass(st: SolverState, signal, pd: PullData, with_chi2: bool = False) -> SolverState:
    """One pass, log-free unless ``with_chi2``: the trial xi - t d is accepted when chi^2 certainly
    decreased, else t shrinks.

    Accepted: the slope of chi^2 along the step is still <= 0 at the trial
    (chi^2 decreased all along, by convexity), or the step is one that
    self-concordance guarantees (lambda < 0.25, or t <= 1/(1 + lambda)).
    Rejected: t moves to the zero of the slope's secant (clipped to
    [0.1 t, 0.9 t], never below 1/(1 + lambda)).
    """
    lam = _lambda(st, pd)
    t_safe = 1.0 / (1.0 + lam)
    xs_t = st.xs - st.t * st.ds
    xb_t = st.xb - st.t * st.db
    ev = _evaluate(xs_t, xb_t, signal, pd, with_chi2=with_chi2, native=True)
    feasible = jnp.isfinite(ev.chi2)
    slope = -(ev.gs * st.ds + ev.gb * st.db)    # d chi^2/dt at the trial point (t along -d)
    accept = feasible & ((slope <= 0) | (lam < _FULL_STEP_LAMBDA) | (st.t <= t_safe))
    t_secant = st.t * st.l2 / (st.l2 + slope)   # zero of the slope's secant through t = 0 and t
    t_reject = jnp.where(feasible & (slope > 0), jnp.clip(t_secant, 0.1 * st.t, 0.9 * st.t), 0.1 * st.t)
    t_reject = jnp.maximum(t_reject, t_safe)
    new = _state(xs_t, xb_t, ev, st.passes + 1)
    return _choose(accept, new, st._replace(t=t_reject, passes=st.passes + 1))


def _final_pass(st: SolverState, signal, pd: PullData) -> SolverState:
    """The last pass: the pending Newton step where it is safe (lambda < 0.25), then chi^2 (with logs)."""
    step = _lambda(st, pd) < _FULL_STEP_LAMBDA
    xs = jnp.where(step, st.xs - st.ds, st.xs)
    xb = jnp.where(step, st.xb - st.db, st.xb)
    return _state(xs, xb, _evaluate(xs, xb, signal, pd, native=True), st.passes + 1)


def solver_converged(st: SolverState):
    """Half the Newton decrement below ``CONVERGENCE_TOL`` at a finite chi^2 (same rule as :func:`profile_pulls`)."""
    return jnp.isfinite(st.chi2) & (0.5 * st.l2 < CONVERGENCE_TOL)


def solve_pulls(signal, pd: PullData, xs0, xb0, max_passes: int) -> SolverState:
    """Fast profile of one point from the start (xs0, xb0), at most ``max_passes`` passes over the bins.

    Log-free damped Newton passes (:func:`_one_pass`) until a full step is safe (lambda < 0.25), then
    :func:`_final_pass` (the step, chi^2 with logs, and the derivatives that certify the result), again
    while that has not converged (quadratic convergence: rarely more than once). Per point (vmap it);
    the ``lax.while_loop`` lanes run in lockstep, so a batch costs the passes of its slowest point. The
    profile of a cold start (:func:`profile_pulls_fast`); warm-started scans use :func:`solve_pulls_warm`
    and :func:`resume_pulls` instead (one loop for all their measurements). Not differentiated through:
    :func:`profile_pulls_fast` adds the implicit derivative.
    """
    ev = _evaluate(xs0, xb0, signal, pd, with_chi2=False, native=True)
    st = _state(xs0, xb0, ev, jnp.ones_like(ev.gs, dtype=jnp.int32))
    st = jax.lax.while_loop(lambda s: (s.passes < max_passes - 1) & ~(_lambda(s, pd) < _FULL_STEP_LAMBDA),
                            lambda s: _one_pass(s, signal, pd), st)
    st = _final_pass(st, signal, pd)
    st = jax.lax.while_loop(lambda s: (s.passes < max_passes) & ~solver_converged(s)
                            & (_lambda(s, pd) < _FULL_STEP_LAMBDA), lambda s: _final_pass(s, signal, pd), st)
    return _exact_if_empty(st, signal, pd)


def _exact_if_empty(st: SolverState, signal, pd: PullData) -> SolverState:
    """``st``, or where every bin is empty the exact minimum (:func:`zero_data_minimum`)."""
    xs, xb, chi2 = zero_data_minimum(bin_sum(signal), pd)
    z = jnp.zeros_like(chi2)
    exact = SolverState(xs, xb, chi2, z, z, z, z, z, z + 1.0, st.passes)
    return _choose(pd.data_total == 0, exact, st)


def solve_pulls_warm(signal, pd: PullData, xs0, xb0) -> SolverState:
    """The loop-free part of a warm-started profile: two passes over the bins, then :func:`resume_pulls`.

    The start's derivatives (log-free), then :func:`_final_pass` (the Newton step where it is safe, chi^2
    with logs and the derivatives that certify it): converged for all but a few points of a scan's rows
    (its warm starts, :func:`warm_start`), which :func:`resume_pulls` finishes. No loop here, so that a
    scan runs one loop for all its measurements (``RowContext.solve``) instead of two per measurement:
    in XLA every loop costs its condition, its copies and its own small kernels at every point, about a
    fifth of a warm grid scan (benchmarks/README.md). Per point (vmap it); not differentiated through.
    """
    if signal.shape[-1] == 1:                   # static: a one-bin measurement has its closed form
        return _one_bin(signal, pd)
    ev = _evaluate(xs0, xb0, signal, pd, with_chi2=False, native=True)
    st = _final_pass(_state(xs0, xb0, ev, jnp.ones_like(ev.gs, dtype=jnp.int32)), signal, pd)
    return _exact_if_empty(st, signal, pd)


def _one_bin(signal, pd: PullData) -> SolverState:
    """The profile of a one-bin measurement (any start): its closed form (:func:`total_count_start`),
    certified by one pass there (chi^2 with logs and the derivatives: converged to rounding, so a scan
    never resumes it); about half the cost of the two passes from a warm start."""
    xs, xb = total_count_start(signal[0], pd)
    st = _state(xs, xb, _evaluate(xs, xb, signal, pd, native=True), jnp.ones_like(xs, dtype=jnp.int32))
    return _exact_if_empty(st, signal, pd)


def pulls_unfinished(st: SolverState, max_passes: int):
    """Not converged and fewer than ``max_passes`` passes used: :func:`resume_pulls` would go on."""
    return ~solver_converged(st) & (st.passes < max_passes)


def resume_pulls(st: SolverState, signal, pd: PullData, max_passes: int) -> SolverState:
    """One more pass of a state from :func:`solve_pulls_warm` where :func:`pulls_unfinished` (else ``st``).

    The pass is :func:`_one_pass` with chi^2 (so that every state has its chi^2): the damped step where a
    full one is not safe, the full step where it is (lambda < 0.25). Call it in a loop while any point
    is unfinished.
    """
    return _choose(pulls_unfinished(st, max_passes), _one_pass(st, signal, pd, with_chi2=True), st)


def zero_data_minimum(total_signal, pd: PullData):
    """(xi_S, xi_B, chi^2) of eq. 4.1 where every bin is empty: chi^2 = 2 (xi_S S + xi_B B) + pulls is
    separable, and with the pulls >= 0 (mu >= 0: the extension 2 mu of an empty bin to mu < 0 would be
    unbounded below as S grows) xi = max(0, 1 - sigma^2 S). Exact; both profilers use it."""
    xs = jnp.maximum(0.0, 1.0 - pd.sigma_signal**2 * total_signal)
    xb = jnp.maximum(0.0, 1.0 - pd.sigma_background**2 * pd.background_total)
    chi2 = (2.0 * (xs * total_signal + xb * pd.background_total) + ((1.0 - xs) / pd.sigma_signal) ** 2
            + ((1.0 - xb) / pd.sigma_background) ** 2)
    return xs, xb, chi2


def total_count_start(total_signal, pd: PullData):
    """The profile of eq. 4.1 for the total counts (one bin): closed form, (xi_S, xi_B).

    Stationarity gives 1 - xi_S = S sigma_S^2 u, 1 - xi_B = B sigma_B^2 u with
    u = 1 - N/mu and mu = T - u V (T = S + B, V = S^2 sigma_S^2 + B^2 sigma_B^2),
    so V u^2 - (T + V) u + (T - N) = 0; the root with mu > 0 is taken in its
    cancellation-free form. Exact for single-bin experiments; the start of
    the fast profile otherwise (it matches the totals and the pulls, the
    spectral shape is left to Newton).
    """
    ss2 = pd.sigma_signal**2
    sb2 = pd.sigma_background**2
    s_tot, b_tot, n_tot = total_signal, pd.background_total, pd.data_total
    t = s_tot + b_tot
    v = s_tot * s_tot * ss2 + b_tot * b_tot * sb2
    u = 2.0 * (t - n_tot) / ((t + v) + jnp.sqrt((t - v) ** 2 + 4.0 * v * n_tot))
    xb = 1.0 - b_tot * sb2 * u
    shift = s_tot * ss2 * u
    # xi_S = 1 - S sigma_S^2 u cancels when the signal is huge (xi_S -> (N - B)/S, u -> 1/(S sigma_S^2));
    # there mu = N/(1 - u) and xi_S = (mu - xi_B B)/S is the accurate form.
    mu = n_tot / (1.0 - u)
    xs = jnp.where(shift < 0.5, 1.0 - shift, (mu - xb * b_tot) / jnp.where(s_tot > 0, s_tot, 1.0))
    return xs, xb


def _positive_or(xs, xb, xs_alt, xb_alt):
    ok = jnp.isfinite(xs) & jnp.isfinite(xb) & (xs > 0) & (xb > 0)
    return jnp.where(ok, xs, xs_alt), jnp.where(ok, xb, xb_alt)


def cold_start(total_signal, pd: PullData):
    """:func:`total_count_start` where it has positive pulls, else (1, 1)."""
    xs, xb = total_count_start(total_signal, pd)
    one = jnp.ones_like(xs)
    return _positive_or(xs, xb, one, one)


def warm_start(st: SolverState, total_prev, total_new, pd: PullData, predicted, missed):
    """Start for a neighbouring point from a solved one (total signal ``total_prev`` -> ``total_new``).

    The prediction: the pulls move as the total-count profile moves (xi_S scaled by its ratio, xi_B
    shifted by its change), from the solved point's pulls with its pending Newton step taken where that
    is safe (lambda < 0.25); :func:`cold_start` where that is not positive. ``predicted``: (xi_S, xi_B)
    that this rule predicted for the solved point (NaN: nothing, after a cold start); ``missed``: the miss
    (solved minus predicted) at the point before it (NaN: none). Along a row the miss varies slowly, so
    its linear extrapolation from the two (the solved point's miss alone where there is one) is added to
    the new prediction where that keeps the pulls positive: at the ESS grid's spacing this leaves about
    one point in a thousand needing a third pass, against 4% with the miss alone (benchmarks/README.md).

    Returns ((xi_S, xi_B) to start from, (xi_S, xi_B) predicted, (xi_S, xi_B) missed at the solved
    point): the last two for the next point.
    """
    safe = _lambda(st, pd) < _FULL_STEP_LAMBDA
    xs = jnp.where(safe, st.xs - st.ds, st.xs)
    xb = jnp.where(safe, st.xb - st.db, st.xb)
    a0, b0 = total_count_start(total_prev, pd)
    a1, b1 = total_count_start(total_new, pd)
    xs_c, xb_c = cold_start(total_new, pd)
    xs_p, xb_p = _positive_or(xs * (a1 / a0), xb + (b1 - b0), xs_c, xb_c)
    miss = (xs - predicted[0], xb - predicted[1])                 # NaN after a cold start
    correction = [jnp.where(jnp.isfinite(m), jnp.where(jnp.isfinite(m0), 2.0 * m - m0, m), 0.0)
                  for m, m0 in zip(miss, missed)]
    return _positive_or(xs_p + correction[0], xb_p + correction[1], xs_p, xb_p), (xs_p, xb_p), miss


def chi2_lower_bound(st: SolverState, pd: PullData):
    """A rigorous lower bound on chi^2_min from the accepted point (chi^2, gradient, decrement).

    min of the self-concordance bound (-lambda - ln(1 - lambda))/s (lambda < 1), taken as its upper
    bound lambda^2/(2 (1 - lambda))/s (the series sum_k>=2 lambda^k/k term by term below lambda^k/2: the
    same to first order, at most 31% above it for lambda <= 1/2; no logarithm, which XLA:CPU does not
    vectorise, and no cancellation at small lambda), and the strong-convexity bound
    (sigma_S^2 g_S^2 + sigma_B^2 g_B^2)/4.
    """
    lam = _lambda(st, pd)
    inside = lam < 1.0
    lam_in = jnp.where(inside, lam, 0.0)
    sc_gap = jnp.where(inside, 0.5 * lam_in * lam_in / ((1.0 - lam_in) * pd.scale), jnp.inf)
    dual_gap = 0.25 * (pd.sigma_signal**2 * st.gs**2 + pd.sigma_background**2 * st.gb**2)
    return st.chi2 - jnp.minimum(sc_gap, dual_gap)


def _implicit_chi2(st: SolverState, signal, pd: PullData):
    """chi^2 at the solved pulls with the derivatives of the profiled chi^2 (one more pass).

    F(theta) = chi^2(xi*, theta) - g^T H^-1 g / 2 (the Newton model's minimum
    at fixed xi*) has, where g = 0, the first derivative of chi^2_min
    (envelope theorem) and the second (H_theta theta - H_theta xi H^-1
    H_xi theta); its value is replaced by chi^2(xi*) exactly. Also returns the
    pulls with their implicit-function derivative -H^-1 dg/dtheta.
    """
    sg = jax.lax.stop_gradient
    xs, xb = sg(st.xs), sg(st.xb)
    ev = _evaluate(xs, xb, signal, pd)
    ds, db, l2 = _newton_step(ev)
    model_min = ev.chi2 - 0.5 * jnp.where(jnp.isfinite(l2), l2, 0.0)
    tangent = jnp.where(jnp.isfinite(model_min), model_min - sg(model_min), 0.0)
    xi = jnp.stack([xs - (ds - sg(ds)), xb - (db - sg(db))])
    return sg(st.chi2) + tangent, xi


def profile_pulls_fast(signal, background, data, sigma_signal, sigma_background, passes: int = FAST_PASSES,
                       start=None) -> Profile:
    """min over (xi_S, xi_B) of eq. 4.1: the fast profile (module docstring), one point.

    Args:
      signal: expected signal counts per bin, shape (B,) (as :func:`profile_pulls`).
      background: expected background counts per bin, shape (B,).
      data: observed (or Asimov) counts per bin, shape (B,).
      sigma_signal: fractional normalisation uncertainty of the signal.
      sigma_background: fractional normalisation uncertainty of the background.
      passes: at most this many passes over the bins (trial points), stopping early once converged.
      start: an optional (2,) start (default: :func:`cold_start`, the total-count profile).

    jit/vmap/grad friendly: the iterations are not differentiated; gradients
    (first and second order) of ``chi2`` with respect to the signal, data and
    background are those of the profiled chi^2 (implicit differentiation), exact
    at convergence.
    """
    sg = jax.lax.stop_gradient
    pd = pull_data(background, data, sigma_signal, sigma_background)
    sig0, pd0 = sg(jnp.asarray(signal)), jax.tree_util.tree_map(sg, pd)
    if start is None:
        xs0, xb0 = cold_start(jnp.sum(sig0), pd0)
    else:
        start = sg(jnp.asarray(start, dtype=sig0.dtype))
        xs0, xb0 = _positive_or(start[0], start[1], *cold_start(jnp.sum(sig0), pd0))
    st = solve_pulls(sig0, pd0, xs0, xb0, passes)
    chi2, xi = _implicit_chi2(st, jnp.asarray(signal), pd)
    empty = pd0.data_total == 0                # the exact minimum, with its own derivatives (active bounds)
    xs_e, xb_e, chi2_e = zero_data_minimum(jnp.sum(jnp.asarray(signal)), pd)
    chi2, xi = jnp.where(empty, chi2_e, chi2), jnp.where(empty, jnp.stack([xs_e, xb_e]), xi)
    return Profile(chi2=chi2, nuisances=xi, converged=solver_converged(st), decrement=0.5 * st.l2,
                   chi2_lower=chi2_lower_bound(st, pd0), passes=st.passes)
