"""The public API is pinned (pyhf's test_public_api), and the README's Python example runs as written."""

import re
import subprocess
import sys
from pathlib import Path

import zprime_jax

README = Path(__file__).resolve().parents[1] / "README.md"

EXPECTED = [
    "Analysis", "CL90_1DOF", "Coherent2017", "GaussianSM", "HeavyZPrime", "InputError", "LightZPrime", "MODELS",
    "Measurement", "PoissonPulls", "Projection", "SpecError", "ZPrimeError", "__version__", "asimov_measurement",
    "best_fit", "build_kernel", "counts_polynomial", "coupling_limits", "delta_chi2", "delta_chi2_for_cl",
    "delta_chi2_grid", "delta_chi2_plane", "enable_x64", "expected_counts", "get_model", "likelihood_for",
    "list_experiments", "load_experiment", "mass_limit", "mass_limits", "measurement", "observed_measurement",
    "raster", "reference_to_best_fit", "run_posterior", "trace_e6_plane", "trace_sensitivity",
]


def test_public_api_is_pinned():
    assert sorted(zprime_jax.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(zprime_jax, name) is not None, name


def test_import_is_light():
    """``import zprime_jax`` imports neither JAX nor NumPyro (the public names load on first use)."""
    code = "import sys, zprime_jax; print(int('jax' in sys.modules), int('numpyro' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0"]


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no Python example"
    proc = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[1].startswith("[") and "coherent-2017" in lines[2], proc.stdout
