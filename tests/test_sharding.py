"""Device-sharded scans: identical results on 4 (forced host) devices and on 1.

JAX fixes the number of CPU devices when it starts, so the 4-device run is a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.inference import scan, sharding
from zprime_jax.kernels.rates import build_kernel
from zprime_jax.physics.models import MODELS

zprime_jax.enable_x64()

MASSES = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]       # 7 rows: padded to the devices
COUPLINGS = list(np.logspace(-7, -2, 9))
LIMIT_MASSES = [2.0, 20.0, 200.0, 2000.0, 5.0]

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import numpy as np
    import zprime_jax
    zprime_jax.enable_x64()
    from zprime_jax.inference import scan
    from zprime_jax import likelihood
    from zprime_jax.inference import limits
    from zprime_jax.physics.models import MODELS
    from zprime_jax.kernels.rates import build_kernel

    args = json.loads(sys.argv[1])
    assert jax.device_count() == 4, jax.devices()
    ms = tuple(likelihood.asimov_measurement(build_kernel(n)) for n in ("ess-csi", "ess-ar"))
    model = MODELS["universal"]
    out = {}
    for n_dev in (4, 1):
        g = scan.delta_chi2_grid(ms, model, args["masses"], args["couplings"], progress=None,
                                 devices=n_dev)
        lim = limits.coupling_limits(ms, model, args["limit_masses"], chunk=2, progress=None, devices=n_dev)
        out[str(n_dev)] = {"devices": g.devices, "grid": g.delta_chi2.tolist(), "lower": g.delta_chi2_lower.tolist(),
                           "converged": g.converged.tolist(), "limits": lim["coupling"].tolist(),
                           "limits_converged": lim["converged"].tolist()}
    print("RESULT" + json.dumps(out))
""")


@pytest.fixture(scope="module")
def four_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    args = json.dumps({"masses": MASSES, "couplings": COUPLINGS, "limit_masses": LIMIT_MASSES})
    proc = subprocess.run([sys.executable, "-c", SCRIPT, args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_four_devices_give_identical_results(four_devices):
    four, one = four_devices["4"], four_devices["1"]
    assert four["devices"] == 4 and one["devices"] == 1
    for key in ("grid", "lower", "converged", "limits", "limits_converged"):
        assert np.array_equal(np.asarray(four[key]), np.asarray(one[key]), equal_nan=True), key
    assert np.all(four["converged"]) and np.all(four["limits_converged"])


def test_subprocess_matches_this_process(four_devices):
    """The subprocess (4 host devices, run on 1) equals this process's default (1-device) run."""
    ms = tuple(likelihood.asimov_measurement(build_kernel(n)) for n in ("ess-csi", "ess-ar"))
    model = MODELS["universal"]
    g = scan.delta_chi2_grid(ms, model, MASSES, COUPLINGS, progress=None)
    assert np.array_equal(g.delta_chi2, np.asarray(four_devices["1"]["grid"]))   # bit for bit


def test_plan_and_devices():
    block, calls = sharding.plan(1000, 2, 64, 8)
    assert block % (2 * 64) == 0 and block * calls >= 1000 and (calls - 1) * block < 1000
    assert sharding.plan(1, 4, 16, 8) == (64, 1)
    assert len(sharding.local_devices(1)) == 1
    with pytest.raises(ValueError, match="devices"):
        sharding.local_devices(10_000)
