"""Binned Poisson chi^2 with background templates, normalisation and shape nuisances (COHERENT releases).

For a kernel with cells b (energy x time [x F90]) the expected counts are

    mu_b = xi_S xi_src [s0_b + sum_v I(theta_v; s+_vb - s0_b, s-_vb - s0_b)]
           + sum_c xi_c [T_cb + sum_{k of c} I(theta_k; T+_kb - T_cb, T-_kb - T_cb)],

    I(theta; d+, d-) = theta (d+ - d-)/2 + theta^2 (d+ + d-)/2

(quadratic interpolation: exact at theta = -1, 0, +1, smooth everywhere, so
that Newton's method and gradients see no kink), with s0 the nominal signal
and s+-_v its +-1 sigma variants (the kernel gives them, each exactly
quadratic in g^2 or gamma), T_c the background templates with their own
variants, and

    chi^2 = sum_b 2 [mu_b - n_b + n_b ln(n_b / mu_b)]
            + sum over nuisances ((nu - nominal) / sigma)^2

with normalisations xi (nominal 1, fractional sigma) and shape nuisances
theta (nominal 0, sigma 1). The source normalisation xi_src (neutrinos per
proton) carries a name without the experiment, so that two measurements at
one source share it. A sigma of +inf leaves a nuisance unconstrained (the
free CEvNS normalisation of a fit); a sigma of 0 holds it at its nominal
value.

The profile is damped Newton on closed-form derivatives (the Gauss-Newton
step where the quadratic interpolation makes chi^2 non-convex and the Newton
step does not descend), a backtracking line search, at most
``PROFILE_ITERATIONS`` iterations (jit/vmap friendly; its derivative is the
envelope theorem's); converged where half the Newton decrement is below
``CONVERGENCE_TOL``. Scans warm-start it from the previous point's nuisances.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from ..errors import InputError
from .poisson import poisson_deviance
from .profile import Profile, constraint_derivatives, constraint_terms, damped_newton

PROFILE_ITERATIONS = 40


def interpolation_coefficients(plus, minus):
    """(linear, quadratic) coefficients of I(theta; d+, d-) = linear theta + quadratic theta^2, each (S, B)."""
    return 0.5 * (plus - minus), 0.5 * (plus + minus)


def interpolation_terms(theta, plus, minus):
    """I(theta_k; d+_k, d-_k) per systematic: theta (S,), plus / minus (S, B) deltas -> (S, B)."""
    linear, quadratic = interpolation_coefficients(plus, minus)
    return linear * theta[:, None] + quadratic * (theta * theta)[:, None]


def interpolate(theta, plus, minus):
    """I(theta; d+, d-) summed over the systematics: theta (S,), plus / minus (S, B) deltas -> (B,)."""
    return jnp.sum(interpolation_terms(theta, plus, minus), axis=0)


class TemplateState(NamedTuple):
    """What a scan carries from one point to the next: the nuisances, the chi^2 and convergence."""

    nuisances: jax.Array
    chi2: jax.Array
    converged: jax.Array


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class TemplatePoisson:
    """The binned Poisson chi^2 of a measurement with templates (module docstring), a frozen pytree.

    Array fields: ``templates`` (C, B) nominal backgrounds, ``template_plus`` / ``template_minus``
    (S, B) their shape variants, ``sigma`` (P,) the constraint width of every nuisance. Static:
    ``names`` (P,) in the order [signal norm, (source norm), template norms (C), signal shapes (V),
    template shapes (S)], ``n_signal_norms`` (1 or 2), ``shape_of`` (S,) the template of each
    template shape.
    """

    templates: jax.Array
    template_plus: jax.Array
    template_minus: jax.Array
    sigma: jax.Array
    names: tuple[str, ...] = field(default=(), metadata={"static": True})
    n_signal_norms: int = field(default=1, metadata={"static": True})
    shape_of: tuple[int, ...] = field(default=(), metadata={"static": True})

    form: ClassVar[str] = "templates-poisson"
    equation: ClassVar[str] = ("binned Poisson with background templates, normalisation and shape nuisances "
                               "(COHERENT data releases)")

    # --- layout ------------------------------------------------------------------------------------------
    @property
    def nuisance_names(self) -> tuple[str, ...]:
        return self.names

    @property
    def n_templates(self) -> int:
        return self.templates.shape[0]

    @property
    def n_template_shapes(self) -> int:
        return self.template_plus.shape[0]

    @property
    def n_signal_shapes(self) -> int:
        return len(self.names) - self.n_signal_norms - self.n_templates - self.n_template_shapes

    def nominal(self) -> jax.Array:
        """1 for the normalisations, 0 for the shape nuisances."""
        n_norm = self.n_signal_norms + self.n_templates
        return jnp.concatenate([jnp.ones(n_norm), jnp.zeros(len(self.names) - n_norm)])

    def sigmas(self) -> jax.Array:
        return self.sigma

    def with_free_signal(self) -> TemplatePoisson:
        """The form with the signal normalisation unconstrained (sigma = inf): the fitted CEvNS scale."""
        return dataclasses.replace(self, sigma=self.sigma.at[0].set(jnp.inf))

    # --- the model ---------------------------------------------------------------------------------------
    def signal_expected(self, nuisances, signal):
        """The signal part of mu (B,): xi_S xi_src [s0 + sum_v I(theta_v)]; ``signal`` (B,) or (1 + 2V, B)
        (nominal, then the +1 and -1 sigma variants of each systematic)."""
        sig = signal if signal.ndim == 2 else signal[None]
        n_s, n_c, n_v = self.n_signal_norms, self.n_templates, self.n_signal_shapes
        theta_v = nuisances[n_s + n_c:n_s + n_c + n_v]
        s0 = sig[0]
        s = s0 + interpolate(theta_v, sig[1::2] - s0[None], sig[2::2] - s0[None]) if n_v else s0
        return jnp.prod(nuisances[:n_s]) * s

    def template_components(self, nuisances):
        """Each background at the nuisances, (C, B): xi_c [T_c + sum_{k of c} I(theta_k)]."""
        n_s, n_c, n_v = self.n_signal_norms, self.n_templates, self.n_signal_shapes
        xi_c = nuisances[n_s:n_s + n_c]
        theta_k = nuisances[n_s + n_c + n_v:]
        t = self.templates
        if self.n_template_shapes:
            onehot = jax.nn.one_hot(jnp.asarray(self.shape_of), n_c, dtype=t.dtype)          # (S, C)
            base = t[jnp.asarray(self.shape_of)]
            deltas = interpolation_terms(theta_k, self.template_plus - base, self.template_minus - base)
            t = t + onehot.T @ deltas
        return xi_c[:, None] * t

    def expected(self, nuisances, signal):
        """mu (B,) at the nuisances; ``signal`` (B,) or (1 + 2V, B) (nominal, then +1/-1 sigma variants)."""
        mu = self.signal_expected(nuisances, signal)
        if self.n_templates:
            mu = mu + jnp.sum(self.template_components(nuisances), axis=0)
        return mu

    def toy_mean(self, nuisances, signal):
        """The mean of Poisson toy data: :meth:`expected`."""
        return self.expected(nuisances, signal)

    def data_chi2(self, nuisances, signal, data):
        """-2 ln(Poisson likelihood ratio) at fixed nuisances (no constraint terms)."""
        return jnp.sum(poisson_deviance(self.expected(nuisances, signal), data))

    def data_derivatives(self, nuisances, signal, data):
        """Gradient (P,), Hessian (P, P) and its Gauss-Newton part (P, P; positive semi-definite) of
        :meth:`data_chi2` in the nuisances, in closed form.

        With r_b = 2 (1 - n_b / mu_b) and w_b = 2 n_b / mu_b^2: gradient = sum_b r_b dmu_b, Hessian =
        sum_b [w_b dmu_b dmu_b^T + r_b d2mu_b] (the first term the Gauss-Newton part); mu is a low-degree
        polynomial in the nuisances (module docstring), so dmu (P, B) and the few non-zero blocks of d2mu
        are written out. Tested against autodiff; the profile's Newton steps use it (a few times cheaper
        than autodiff Hessians).
        """
        sig = signal if signal.ndim == 2 else signal[None]
        n_s, n_c, n_v, n_k = self.n_signal_norms, self.n_templates, self.n_signal_shapes, self.n_template_shapes
        norms = nuisances[:n_s]
        xi_c = nuisances[n_s:n_s + n_c]
        theta_v = nuisances[n_s + n_c:n_s + n_c + n_v]
        theta_k = nuisances[n_s + n_c + n_v:]
        amp = jnp.prod(norms)
        # the product of the other signal normalisations, for each one
        others = jnp.stack([jnp.prod(jnp.where(jnp.arange(n_s) == i, 1.0, norms)) for i in range(n_s)])
        s0 = sig[0]
        d_plus, d_minus = sig[1::2] - s0[None], sig[2::2] - s0[None]
        p_v, q_v = interpolation_coefficients(d_plus, d_minus)     # (V, B) each
        s = s0 + jnp.sum(interpolation_terms(theta_v, d_plus, d_minus), axis=0)
        ds_v = p_v + 2.0 * theta_v[:, None] * q_v                  # (V, B)
        t = self.templates
        if n_k:
            onehot = jax.nn.one_hot(jnp.asarray(self.shape_of), n_c, dtype=t.dtype)          # (K, C)
            base = t[jnp.asarray(self.shape_of)]
            d_plus, d_minus = self.template_plus - base, self.template_minus - base
            a_k, b_k = interpolation_coefficients(d_plus, d_minus)
            t = t + onehot.T @ interpolation_terms(theta_k, d_plus, d_minus)
            dt_k = a_k + 2.0 * theta_k[:, None] * b_k                # (K, B)
            xi_of_k = onehot @ xi_c
        else:
            dt_k = b_k = jnp.zeros((0, s0.shape[0]))
            xi_of_k = jnp.zeros(0)
        mu = amp * s + jnp.sum(xi_c[:, None] * t, axis=0)
        jac = jnp.concatenate([others[:, None] * s[None], t, amp * ds_v, xi_of_k[:, None] * dt_k])    # (P, B)
        positive = mu > 0
        safe = jnp.where(positive, mu, 1.0)
        r = jnp.where(positive, 2.0 * (1.0 - data / safe), 2.0)
        w = jnp.where(positive, 2.0 * data / (safe * safe), 0.0)
        grad = jac @ r
        hess = (jac * w[None]) @ jac.T
        # sum_b r_b d2mu_b: the non-zero blocks
        second = jnp.zeros_like(hess)
        i_v = n_s + n_c + jnp.arange(n_v)
        i_k = n_s + n_c + n_v + jnp.arange(n_k)
        if n_s == 2:
            cross = jnp.dot(r, s)
            second = second.at[0, 1].set(cross).at[1, 0].set(cross)
        r_ds = ds_v @ r                                            # (V,)
        for i in range(n_s):
            second = second.at[i, i_v].set(others[i] * r_ds).at[i_v, i].set(others[i] * r_ds)
        second = second.at[i_v, i_v].set(2.0 * amp * (q_v @ r))
        if n_k:
            r_dt = dt_k @ r                                        # (K,)
            rows = n_s + jnp.asarray(self.shape_of)
            second = second.at[rows, i_k].set(r_dt).at[i_k, rows].set(r_dt)
            second = second.at[i_k, i_k].set(2.0 * xi_of_k * (b_k @ r))
        return grad, hess + second, hess

    def derivatives(self, nuisances, signal, data):
        """Gradient (P,), Hessian (P, P) and its Gauss-Newton part of :meth:`chi2` in the nuisances."""
        g, h, h_gn = self.data_derivatives(nuisances, signal, data)
        gp, hp = constraint_derivatives(nuisances, self.nominal(), self.sigma)
        return g + gp, h + jnp.diag(hp), h_gn + jnp.diag(hp)

    def chi2(self, nuisances, signal, data):
        return self.data_chi2(nuisances, signal, data) + jnp.sum(constraint_terms(nuisances, self.nominal(),
                                                                                  self.sigma))

    def asimov_data(self, sm_signal):
        """The Asimov data set: the expectation at the nominal nuisances."""
        return self.expected(self.nominal(), sm_signal)

    # --- the profile -------------------------------------------------------------------------------------
    def _start(self, signal, data):
        """Nominal nuisances or, if better, the signal normalisation matching the total counts."""
        nu0 = self.nominal()
        sig = signal if signal.ndim == 2 else signal[None]
        total = jnp.sum(sig[0])
        ratio = (jnp.sum(data) - jnp.sum(self.templates)) / jnp.where(total > 0, total, 1.0)
        matched = nu0.at[0].set(jnp.where(ratio > 0, ratio, 1.0))
        return jnp.where(self.chi2(matched, signal, data) < self.chi2(nu0, signal, data), matched, nu0)

    def _newton(self, signal, data, nu, iterations: int):
        free = (self.sigma > 0).astype(nu.dtype)
        return damped_newton(lambda x: self.chi2(x, signal, data), nu, free, iterations,
                             derivatives=lambda x: self.derivatives(x, signal, data))

    def profile(self, signal, data, method: str = "robust", start=None) -> Profile:
        """chi^2 minimised over every nuisance (``method`` does not apply; ``start``: initial nuisances)."""
        nu0 = self._start(signal, data) if start is None else jnp.asarray(start)
        nu, decrement, converged = self._newton(jax.lax.stop_gradient(signal), data, nu0, PROFILE_ITERATIONS)
        # envelope theorem: at the minimum d chi2_min / d signal = the partial derivative at fixed nuisances,
        # so the iterations are not differentiated (exact at convergence, and cheap)
        nu = jax.lax.stop_gradient(nu)
        chi2 = self.chi2(nu, signal, data)
        return Profile(chi2=chi2, nuisances=nu, converged=converged, decrement=decrement,
                       chi2_lower=jnp.where(converged, jax.lax.stop_gradient(chi2), -jnp.inf),
                       passes=jnp.asarray(PROFILE_ITERATIONS, dtype=jnp.int32))

    def with_luminosity(self, ratio):
        raise InputError("luminosity_ratio: does not apply to templates-poisson; scale the exposure instead")

    def with_projection_uncertainty(self, sigma):
        """Itself: the templates form has its own nuisances, not the projection uncertainties of eq. 22."""
        return self

    # --- warm-started scans (zprime_jax.inference.scan) --------------------------------------------------
    def prepare(self, data):
        return data

    def scan_start(self, signal, prepared) -> TemplateState:
        """A state of the right structure (the nominal nuisances, unsolved); it depends on ``signal`` so
        that it varies over the points of a sharded scan as the solved states do."""
        z = 0.0 * jnp.sum(signal)
        return TemplateState(self.nominal() + z, z, z > 0)

    def scan_solve(self, signal, prepared, previous: TemplateState, cold, passes: int) -> TemplateState:
        """Newton from the previous point's nuisances (``cold``: from the start point instead)."""
        nu0 = jnp.where(cold, self._start(signal, prepared), previous.nuisances)
        nu, _, converged = self._newton(signal, prepared, nu0, max(passes, 8))
        return TemplateState(nu, self.chi2(nu, signal, prepared), converged)

    def scan_unfinished(self, state: TemplateState, prepared, passes: int):
        """Never: :meth:`scan_solve` runs its Newton iterations to the end."""
        return jnp.zeros_like(state.converged)

    def scan_continue(self, state: TemplateState, signal, prepared, passes: int) -> TemplateState:
        return state

    def scan_values(self, state: TemplateState, prepared):
        return state.chi2, jnp.where(state.converged, state.chi2, -jnp.inf), state.converged
