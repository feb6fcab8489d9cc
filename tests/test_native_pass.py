"""The native pass over the bins (likelihood.native_pass, poisson_pass.cc) against XLA's sums.

The reference is ``poisson_fast._bin_sums_xla`` (the same terms of eq. 4.1 in XLA, itself tested against
closed forms and SciPy in test_stats.py). The two sum in different orders and the native code contracts
to fused multiply-adds, so they agree to rounding: each of the Hessian sums is a sum of B non-negative
terms (relative error <= B ulp, B <= 70 here: 1e-13 is ten times that); the deviance sums terms
(mu - n) + n ln(n/mu) that cancel inside each term, so its error is an ulp of sum(mu + |n ln(n/mu)|).
"""

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zprime_jax import likelihood
from zprime_jax.errors import InputError
from zprime_jax.likelihood import native_pass, poisson_fast
from zprime_jax.likelihood.poisson_fast import pull_data

HAVE_COMPILER = shutil.which("c++") is not None or shutil.which("g++") is not None
needs_native = pytest.mark.skipif(not native_pass.requested(), reason="ZPRIME_JAX_NATIVE=0")


def _problem(seed: int, points: int, bins: int):
    """Random signal, background and data over ``bins`` (a third of the bins empty, counts over
    20 decades so that n/mu spans the logarithm's range), and pulls per point, a few infeasible."""
    rng = np.random.default_rng(seed)
    signal = 10.0 ** rng.uniform(-6, 4, (points, bins))
    background = 10.0 ** rng.uniform(-3, 3, bins)
    data = np.where(rng.uniform(size=bins) < 0.33, 0.0, np.round(10.0 ** rng.uniform(0, 5, bins)))
    xs = rng.uniform(0.2, 3.0, points)
    xs[:3] = -1.0                                   # mu < 0 somewhere: infeasible where that bin has data
    xb = rng.uniform(0.5, 1.5, points)
    return signal, background, data, xs, xb


def _compare(native, reference, signal, background, data, xs, xb):
    *n_sums, n_feasible = (np.asarray(a) for a in native)
    *r_sums, r_feasible = (np.asarray(a) for a in reference)
    np.testing.assert_array_equal(n_feasible, r_feasible)
    for i in (0, 1, 2, 4):                          # sums of non-negative terms (module docstring)
        np.testing.assert_allclose(n_sums[i], r_sums[i], rtol=1e-13, atol=0)
    mu = xs[..., None] * signal + xb[..., None] * background
    scale = np.sum(np.abs(mu) + data * np.abs(np.log(np.where(data > 0, data, 1.0) / np.abs(mu))), axis=-1)
    assert np.all(np.abs(n_sums[3] - r_sums[3]) <= 1e-14 * scale)


@needs_native
def test_the_native_pass_builds_where_there_is_a_compiler():
    """On a machine with a C++ compiler the library is built and registered (else the fast profile would
    quietly run XLA's sums: test_timing's figures would be those of the fallback)."""
    if not HAVE_COMPILER:
        pytest.skip("no C++ compiler on this machine: the XLA sums are used")
    assert native_pass.available(), native_pass.status()
    assert native_pass.status().startswith("native (") and native_pass.identity() != "xla"


@needs_native
@pytest.mark.parametrize("with_chi2", [False, True])
def test_native_sums_match_xla_under_vmap(with_chi2):
    """Per point: signal and pulls batched, background and data per bin (a grid's rows)."""
    if not native_pass.available():
        pytest.skip(native_pass.status())
    signal, background, data, xs, xb = _problem(1, 64, 59)
    pd = pull_data(background, data, 0.1, 0.2)

    def both(s, a, b):
        return (native_pass.poisson_pass(s, pd.background, pd.data, a, b, with_chi2),
                poisson_fast._bin_sums_xla(a, b, s, pd, with_chi2))

    (sums, feasible), reference = jax.jit(jax.vmap(both))(signal, xs, xb)
    assert sums.shape == (64, native_pass.N_SUMS) and feasible.shape == (64,)
    assert not np.all(feasible) and np.any(feasible)
    if not with_chi2:
        assert np.all(np.asarray(sums[:, 3]) == 0.0)
        reference = (*reference[:3], jnp.zeros(64), *reference[4:])
    _compare((*(sums[:, i] for i in range(5)), feasible), reference, signal, background, data, xs, xb)


@needs_native
def test_native_sums_match_xla_batched_data_nested_vmap_and_unbatched_signal():
    """The batching rule's other cases: data batched (toys), two nested vmaps (the signal varying along
    the outer axis only, the pulls along both), and one point without vmap."""
    if not native_pass.available():
        pytest.skip(native_pass.status())
    signal, background, data, xs, xb = _problem(2, 6, 19)
    toys = np.random.default_rng(3).poisson(np.broadcast_to(data + 1.0, (6, 19))).astype(float)

    def native(s, n, a, b):
        sums, feasible = native_pass.poisson_pass(s, background, n, a, b, True)
        return (*(sums[..., i] for i in range(5)), feasible)

    def reference(s, n, a, b):
        return poisson_fast._bin_sums_xla(a, b, s, pull_data(background, n, 0.1, 0.2), True)

    got = jax.jit(jax.vmap(native))(signal, toys, xs, xb)
    want = jax.jit(jax.vmap(reference))(signal, toys, xs, xb)
    _compare(got, want, signal, background, toys, xs, xb)

    grid_xs = np.linspace(0.5, 2.0, 4)             # (6 signals) x (4 xi_S), xi_B per signal
    nested = jax.vmap(jax.vmap(native, in_axes=(None, None, 0, None)), in_axes=(0, None, None, 0))
    nested_ref = jax.vmap(jax.vmap(reference, in_axes=(None, None, 0, None)), in_axes=(0, None, None, 0))
    got = jax.jit(nested)(signal, data, grid_xs, xb)
    want = jax.jit(nested_ref)(signal, data, grid_xs, xb)
    assert got[0].shape == (6, 4)
    s_full = np.broadcast_to(signal[:, None, :], (6, 4, 19))
    _compare(got, want, s_full, background, data, np.broadcast_to(grid_xs, (6, 4)),
             np.broadcast_to(xb[:, None], (6, 4)))

    one = jax.jit(native)(signal[5], data, xs[5], xb[5])
    _compare(one, reference(signal[5], data, xs[5], xb[5]), signal[5], background, data, xs[5], xb[5])


@needs_native
def test_fast_profile_native_and_xla_agree_and_stay_differentiable(kernels):
    """The whole fast profile (cold start, damped passes, certificate) with the native sums and with XLA's:
    the same profiled chi^2 to 1e-12 relative, or 1e-13 of the total count where chi^2 is at its rounding
    floor (the deviance sums terms of the size of the counts: ulps of the total), the same convergence;
    the gradient (implicit, from the XLA sums) stays finite and equal."""
    if not native_pass.available():
        pytest.skip(native_pass.status())
    m = likelihood.asimov_measurement(kernels["ess-ge"])
    k = kernels["ess-ge"]
    sig = np.asarray(m.data) - np.asarray(k.background)
    scales = jnp.asarray([0.0, 1e-3, 0.3, 1.0, 30.0, 3e3])

    def profile(a):
        p = likelihood.profile_pulls_fast(a * sig, k.background, m.data, 0.1, 0.2)
        return p.chi2, p.converged

    def run():
        chi2, conv = jax.jit(jax.vmap(profile))(scales)
        grad = jax.jit(jax.vmap(jax.grad(lambda a: profile(a)[0])))(scales)
        return np.asarray(chi2), np.asarray(conv), np.asarray(grad)

    native = run()
    with native_pass.disabled():
        assert not native_pass.usable(jnp.float64) and native_pass.identity() == "xla"
        xla = run()
    np.testing.assert_allclose(native[0], xla[0], rtol=1e-12, atol=1e-13 * float(np.sum(m.data)))
    np.testing.assert_array_equal(native[1], xla[1])
    assert np.all(native[1]) and np.all(np.isfinite(native[2]))
    # the gradient is XLA's at the solved pulls, which differ by rounding: 1e-12 of its size (~90) near 0
    np.testing.assert_allclose(native[2], xla[2], rtol=1e-9, atol=1e-10)


def test_float32_takes_the_xla_sums():
    assert not native_pass.usable(jnp.float32)


def test_a_missing_compiler_is_a_clear_error(tmp_path):
    """The build names the compiler it could not run (and the fast profile then uses XLA's sums)."""
    with pytest.raises(RuntimeError, match="no-such-compiler"):
        native_pass.build(folder=tmp_path, compiler="no-such-compiler")
    assert not list(tmp_path.glob("*.so"))


def test_a_failing_build_reports_the_compiler_message(tmp_path):
    """A compiler that fails (``false`` exits 1 at once) is reported with its status; nothing is left."""
    if shutil.which("false") is None:
        pytest.skip("no 'false' command")
    with pytest.raises(RuntimeError, match="status 1"):
        native_pass.build(folder=tmp_path, compiler="false")
    assert not list(tmp_path.iterdir())


def test_the_library_name_follows_source_compiler_and_folder(tmp_path):
    a = native_pass.library_path(tmp_path, "c++")
    assert a.parent == tmp_path and a.name.startswith("poisson_pass-") and a.suffix == ".so"
    assert native_pass.library_path(tmp_path, "g++") != a
    assert native_pass.library_path(tmp_path / "x", "c++").name == a.name


@pytest.mark.parametrize("value,expected", [("0", False), ("off", False), ("", True), ("1", True), ("ON", True)])
def test_the_switch_reads_its_environment_variable(monkeypatch, value, expected):
    monkeypatch.setenv("ZPRIME_JAX_NATIVE", value)
    assert native_pass.requested() is expected


def test_a_bad_switch_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("ZPRIME_JAX_NATIVE", "maybe")
    with pytest.raises(InputError, match="ZPRIME_JAX_NATIVE"):
        native_pass.requested()


@needs_native
def test_a_pass_with_native_sums_has_xla_derivatives():
    """Forward mode through a solver pass (a limit's implicit gradient takes it): the native values carry
    the derivatives of XLA's sums, so the tangents agree to rounding."""
    if not native_pass.available():
        pytest.skip(native_pass.status())
    signal, background, data, xs, xb = _problem(4, 1, 15)
    pd = pull_data(background, data, 0.1, 0.2)

    def chi2_and_gradient(scale, native):
        ev = poisson_fast._evaluate(1.2, 0.9, scale * signal[0], pd, native=native)
        return ev.chi2, ev.gs

    native = jax.jvp(lambda a: chi2_and_gradient(a, True), (1.0,), (1.0,))
    xla = jax.jvp(lambda a: chi2_and_gradient(a, False), (1.0,), (1.0,))
    assert native_pass.TARGET in str(jax.make_jaxpr(lambda a: chi2_and_gradient(a, True))(1.0))
    for got, want in zip(jax.tree_util.tree_leaves(native), jax.tree_util.tree_leaves(xla)):
        assert np.isfinite(float(got))
        np.testing.assert_allclose(got, want, rtol=1e-12)


@needs_native
def test_prefetch_builds_the_library_in_the_background(tmp_path, monkeypatch):
    """The command line's first step on a new machine: the build runs in a thread and ends with the library
    renamed into the folder (no temporary left); a second prefetch does nothing."""
    if not HAVE_COMPILER:
        pytest.skip("no C++ compiler on this machine")
    monkeypatch.setenv("ZPRIME_JAX_NATIVE_DIR", str(tmp_path))
    monkeypatch.setattr(native_pass, "_prefetched", {})
    native_pass.prefetch()
    native_pass._prefetched["thread"].join()
    assert "error" not in native_pass._prefetched, native_pass._prefetched.get("error")
    assert native_pass._prefetched["path"] == native_pass.library_path() and native_pass.library_path().exists()
    assert [p.name for p in tmp_path.iterdir()] == [native_pass.library_path().name]
    monkeypatch.setattr(native_pass, "_prefetched", {})
    native_pass.prefetch()
    assert native_pass._prefetched == {}


def test_a_bad_switch_is_rejected_after_a_build_has_started(monkeypatch):
    """Every command checks the setting, also in a process whose earlier command started the build (CI's
    fresh home folder found the check skipped there)."""
    monkeypatch.setattr(native_pass, "_prefetched", {"thread": None})
    monkeypatch.setenv("ZPRIME_JAX_NATIVE", "maybe")
    with pytest.raises(InputError, match="ZPRIME_JAX_NATIVE"):
        native_pass.prefetch()
