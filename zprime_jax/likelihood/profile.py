"""The outcome of profiling a likelihood form over its nuisances, with its status as data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp

# Converged when half the Newton decrement g^T H^-1 g (the predicted chi^2 decrease still
# available) is below this: far below any Delta chi^2 of interest. The rule of every profiler.
CONVERGENCE_TOL = 1e-9


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Profile:
    """chi^2 minimised over a form's own nuisances, and how the minimisation went (a pytree).

    Fields (arrays; a vmapped profile has a leading axis on each):
      chi2: the profiled chi^2 (differentiable: implicit or envelope derivative).
      nuisances: (P,) the nuisances at the minimum, in ``form.nuisance_names`` order
        (normalisation factors, nominal 1).
      converged: the minimisation met its tolerance (closed forms: always True).
      decrement: half the Newton decrement g^T H^-1 g left at the end (0 for closed forms).
      chi2_lower: a lower bound on the true minimum (equal to ``chi2`` for closed
        forms; certified by self-concordance for the fast eq. 4.1 profile; ``chi2``
        where converged and -inf elsewhere for the robust one).
      passes: passes over the bins (fast profile) or Newton iterations (robust); 0 for closed forms.
    """

    chi2: jax.Array
    nuisances: jax.Array
    converged: jax.Array
    decrement: jax.Array
    chi2_lower: jax.Array
    passes: jax.Array


class Normalisations:
    """Shared behaviour of forms whose nuisances are normalisation factors (nominal 1) named by ``names``."""

    @property
    def nuisance_names(self) -> tuple[str, ...]:
        return self.names

    def nominal(self) -> jax.Array:
        """Nominal values of the nuisances: every normalisation factor is 1."""
        return jnp.ones(len(self.names), dtype=jnp.result_type(float))


class ClosedForm:
    """Shared behaviour of the forms whose profile has a closed form (heavy-Z' paper eqs. 21-23).

    A subclass defines ``minimum(signal, data) -> (chi2, nuisances)``; the profile,
    and the scan interface that the warm-started scans use for every form
    (``prepare``, ``scan_start``, ``scan_solve``, ``scan_unfinished``, ``scan_continue``,
    ``scan_values``), follow: there is nothing to warm-start, every point is exact.
    """

    def profile(self, signal, data, method: str = "robust", start=None) -> Profile:
        """The exact minimum over the nuisances (``method`` and ``start`` do not apply)."""
        chi2, nuisances = self.minimum(signal, data)
        zero = jnp.zeros_like(chi2)
        return Profile(chi2=chi2, nuisances=nuisances, converged=jnp.isfinite(chi2), decrement=zero,
                       chi2_lower=chi2, passes=jnp.zeros_like(chi2, dtype=jnp.int32))

    def with_luminosity(self, ratio):
        """The form with the luminosity ratio F'/F = ``ratio`` (Fig. 3 of the heavy-Z' paper)."""
        return dataclasses.replace(self, luminosity=jnp.asarray(ratio, dtype=jnp.result_type(float)))

    def with_projection_uncertainty(self, sigma):
        """The form with sigma_stat = sigma_sys = ``sigma`` where it is a projection (eq. 22); else itself."""
        return self

    def prepare(self, data):
        return data

    def scan_start(self, signal, prepared):
        return self.minimum(signal, prepared)[0]

    def scan_solve(self, signal, prepared, previous, cold, passes: int):
        return self.minimum(signal, prepared)[0]

    def scan_unfinished(self, state, prepared, passes: int):
        return jnp.zeros(jnp.shape(state), dtype=bool)

    def scan_continue(self, state, signal, prepared, passes: int):
        return state

    def scan_values(self, state, prepared):
        return state, state, jnp.isfinite(state)


# Backtracking fractions of a damped Newton step, tried in order (the first that lowers chi^2 is taken):
# 1, 1/4, ..., 4^-11, then stay.
NEWTON_STEPS = tuple([4.0 ** -k for k in range(12)] + [0.0])

# The Newton iterations stop once half the decrement is below this: 100 times below CONVERGENCE_TOL, above the
# rounding floor of a chi^2 ~ 1e3 (~3e-13). Newton converges quadratically, so the extra precision costs at most
# one iteration, and the envelope-theorem derivatives of a profiled chi^2 are then exact to rounding.
STOP_TOL = 1e-11


def constraint_terms(nuisances, nominal, sigma):
    """((nu_k - nominal_k) / sigma_k)^2 per nuisance, (P,): the Gaussian constraints (sigma = 0: a nuisance
    held at its nominal value, sigma = inf: unconstrained; neither contributes)."""
    pulls = jnp.where(sigma > 0, (nuisances - nominal) / jnp.where(sigma > 0, sigma, 1.0), 0.0)
    return pulls * pulls


def constraint_derivatives(nuisances, nominal, sigma):
    """Gradient and (diagonal) Hessian, (P,) each, of sum_k ((nu_k - nominal_k) / sigma_k)^2 (sigma = inf:
    unconstrained, sigma = 0: held fixed; neither contributes)."""
    inv = jnp.where((sigma > 0) & jnp.isfinite(sigma), 1.0 / jnp.where(sigma > 0, sigma, 1.0) ** 2, 0.0)
    return 2.0 * inv * (nuisances - nominal), 2.0 * inv


def solve_small(a, b):
    """x with a x = b for a small dense (P, P) system: Gaussian elimination with partial pivoting in plain
    array operations (a ``fori_loop`` over the P columns: a compact program for any P). No LAPACK call:
    inside sharded scans on several CPU devices a LAPACK custom call in every iteration of every point
    deadlocked XLA:CPU (observed with jax 0.10)."""
    n = a.shape[0]
    rows = jnp.arange(n)

    def eliminate(k, m):
        piv = jnp.argmax(jnp.where(rows >= k, jnp.abs(m[:, k]), -1.0))
        m = m[jnp.where(rows == k, piv, jnp.where(rows == piv, k, rows))]
        row = m[k]
        pivot = jnp.where(row[k] == 0, 1e-300, row[k])
        factors = jnp.where(rows == k, 0.0, m[:, k] / pivot)
        return m - factors[:, None] * row[None, :]

    m = jax.lax.fori_loop(0, n, eliminate, jnp.concatenate([a, b[:, None]], axis=1))
    return m[:, n] / jnp.diagonal(m)


def _detached(fn, x0):
    """``fn`` with every traced value it closes over held constant (no derivative flows through it)."""
    converted, consts = jax.closure_convert(fn, x0)
    consts = [jax.lax.stop_gradient(c) for c in consts]
    return lambda x: converted(x, *consts)


def damped_newton(f, x0, free, iterations: int, derivatives=None):
    """Minimise f (a scalar function of a (P,) vector) from x0 over the coordinates where ``free`` is 1.

    Newton steps (where the Newton step does not descend, a non-convex region: the step of the convex
    approximation if ``derivatives`` gives one, else a diagonally scaled gradient step), each with a
    backtracking line search over :data:`NEWTON_STEPS` (only as far as needed), until half the Newton
    decrement is below :data:`STOP_TOL` or after ``iterations`` iterations. The one damped
    Newton of the package's iterative profiles; jit/vmap friendly. ``derivatives``: x -> (gradient,
    Hessian) of f in closed form (default: autodiff), optionally with a positive semi-definite
    approximation of the Hessian as a third item (Gauss-Newton: the step where Newton's does not descend).

    The minimiser is not differentiated: the result carries no derivative with respect to x0 or anything
    f closes over (a profiled chi^2 takes its derivative from the envelope theorem, at the minimum).
    Returns (x, decrement, converged): half the Newton decrement g^T H^-1 g left at the end, and whether it
    is below :data:`CONVERGENCE_TOL`.
    """
    x0 = jax.lax.stop_gradient(x0)
    free = jax.lax.stop_gradient(free)
    f = _detached(f, x0)
    if derivatives is None:
        def derivatives(x):
            return jax.grad(f)(x), jax.hessian(f)(x)
    else:
        derivatives = _detached(derivatives, x0)
    steps = jnp.asarray(NEWTON_STEPS)
    last = steps.shape[0] - 1

    def masked(h):
        return h * free[:, None] * free[None, :] + jnp.diag(1.0 - free)

    def descends(g, d):
        return jnp.all(jnp.isfinite(d)) & (jnp.dot(g, d) > 0)

    def direction(x):
        g, h, *convex = derivatives(x)
        g = g * free
        h = masked(h)
        d = solve_small(h, g)
        diag = jnp.abs(jnp.diagonal(h))
        fallback = g / jnp.where(diag > 0, diag, 1.0)
        if convex:                      # a positive semi-definite approximation (Gauss-Newton) before the gradient
            d_convex = solve_small(masked(convex[0]), g)
            fallback = jnp.where(descends(g, d_convex), d_convex, fallback)
        d = jnp.where(descends(g, d), d, fallback)
        d = jnp.where(jnp.isfinite(d), d, 0.0)
        return d, 0.5 * jnp.dot(g, d)

    def search(x, fx, d):
        """The first step fraction that lowers f (the last, 0, stays)."""
        def more(c):
            k, value = c
            return (k < last) & ~(value < fx)

        def shrink(c):
            k = c[0] + 1
            return k, f(x - steps[k] * d)

        k, value = jax.lax.while_loop(more, shrink, (0, f(x - d)))
        return x - steps[k] * d, jnp.where(value < fx, value, fx)

    def going(c):
        i, _, _, _, dec = c
        return (i < iterations) & ~(jnp.abs(dec) < STOP_TOL)

    def step(c):
        i, x, fx, d, _ = c
        x, fx = search(x, fx, d)
        d, dec = direction(x)
        return i + 1, x, fx, d, dec

    d0, dec0 = direction(x0)
    _, x, _, _, decrement = jax.lax.while_loop(going, step, (0, x0, f(x0), d0, dec0))
    return x, decrement, jnp.isfinite(decrement) & (jnp.abs(decrement) < CONVERGENCE_TOL)
