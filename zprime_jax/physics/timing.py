"""Neutrino arrival times at a pulsed pion decay-at-rest source (issue 15: the time axis of COHERENT).

A proton pulse with a Gaussian time profile (mean ``pulse_mean_ns``, width
``pulse_sigma_ns``; the LAr release's ``snsPOTTraceTiming``: 440 ns and 150 ns)
makes pions that decay at rest with the pi+ lifetime, and the muons from them
decay with the mu+ lifetime:

- **prompt** (pi+ -> mu+ nu_mu): t = t_p + t_pi, a Gaussian convolved with
  one exponential: the exponentially modified Gaussian,
  f(t) = lambda exp(lambda (mu - t) + lambda^2 sigma^2 / 2) Phi((t - mu - lambda sigma^2)/sigma),
  written with log Phi (``log_ndtr``) so that it is finite for every t;
- **delayed** (mu+ -> e+ nu_e anti-nu_mu): t = t_p + t_pi + t_mu, the Gaussian
  convolved with both exponentials:
  f = [lambda_mu g_pi(t) - lambda_pi g_mu(t)] / (lambda_mu - lambda_pi), g_x the
  exponentially modified Gaussian of rate lambda_x.

Times in ns from the pulse's reference (the release's t = 0). The binned
fractions are differences of the closed-form CDFs. Everything is a JAX
function of the pulse parameters (differentiable: timing nuisances).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr

from .constants import TAU_MUON_NS, TAU_PION_CHARGED_NS

COMPONENTS = ("prompt", "delayed")


def _exgauss_pdf_cdf(t, mean, sigma, rate):
    """(pdf, cdf) of a Gaussian(mean, sigma) convolved with an exponential of ``rate`` [1/ns]."""
    t = jnp.asarray(t)
    tail = jnp.exp(rate * (mean - t) + 0.5 * (rate * sigma) ** 2 + log_ndtr((t - mean - rate * sigma**2) / sigma))
    return rate * tail, ndtr((t - mean) / sigma) - tail


def arrival_pdf(t_ns, component: str, pulse_mean_ns, pulse_sigma_ns):
    """Arrival-time density [1/ns] of the prompt or delayed neutrinos at ``t_ns`` (any shape)."""
    return _pdf_cdf(t_ns, component, pulse_mean_ns, pulse_sigma_ns)[0]


def arrival_cdf(t_ns, component: str, pulse_mean_ns, pulse_sigma_ns):
    """The fraction of the component's neutrinos that arrive before ``t_ns``."""
    return _pdf_cdf(t_ns, component, pulse_mean_ns, pulse_sigma_ns)[1]


def _pdf_cdf(t, component, mean, sigma):
    l_pi, l_mu = 1.0 / TAU_PION_CHARGED_NS, 1.0 / TAU_MUON_NS
    g_pi = _exgauss_pdf_cdf(t, mean, sigma, l_pi)
    if component == "prompt":
        return g_pi
    if component == "delayed":
        g_mu = _exgauss_pdf_cdf(t, mean, sigma, l_mu)
        return tuple((l_mu * a - l_pi * b) / (l_mu - l_pi) for a, b in zip(g_pi, g_mu))
    raise ValueError(f"component: must be one of {COMPONENTS}, got {component!r}")


def binned_fractions(edges_ns, component: str, pulse_mean_ns, pulse_sigma_ns):
    """Fraction of the component's neutrinos in each time bin [edges_ns[i], edges_ns[i+1]) (B,)."""
    cdf = arrival_cdf(jnp.asarray(edges_ns), component, pulse_mean_ns, pulse_sigma_ns)
    return cdf[1:] - cdf[:-1]
