"""Device-sharded scans: identical results on several processes (jax.distributed), on several devices, on
one, and in parts.

JAX fixes its process group and its number of CPU devices when it starts, so the multi-process run is two
subprocesses on this machine (loopback coordinator, gloo collectives on the CPU), each with two host
devices: a global mesh of four devices, compared with this process's scan on one device.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.inference import limits, scan, sharding
from zprime_jax.kernels.rates import build_kernel
from zprime_jax.physics.models import MODELS

zprime_jax.enable_x64()

MASSES = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]       # 7 rows: padded to the devices
COUPLINGS = list(np.logspace(-7, -2, 9))
LIMIT_MASSES = [2.0, 20.0, 200.0, 2000.0, 5.0]

SCRIPT = textwrap.dedent("""
    import json, sys
    from zprime_jax import config
    config.start_distributed()           # from JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID
    config.enable_x64()
    import jax
    from zprime_jax.inference import limits, scan
    from zprime_jax import likelihood
    from zprime_jax.physics.models import MODELS
    from zprime_jax.kernels.rates import build_kernel

    args = json.loads(sys.argv[1])
    assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2, jax.devices()
    ms = tuple(likelihood.asimov_measurement(build_kernel(n)) for n in ("ess-csi", "ess-ar"))
    model = MODELS["universal"]
    g = scan.delta_chi2_grid(ms, model, args["masses"], args["couplings"], progress=None)
    lim = limits.coupling_limits(ms, model, args["limit_masses"], chunk=2, progress=None)
    print("RESULT" + json.dumps({"process": jax.process_index(), "devices": g.devices, "grid": g.delta_chi2.tolist(),
                                 "lower": g.delta_chi2_lower.tolist(), "converged": g.converged.tolist(),
                                 "limits": lim["coupling"].tolist(), "limits_converged": lim["converged"].tolist()}))
""")
KEYS = ("grid", "lower", "converged", "limits", "limits_converged")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes():
    """The RESULT of each of the two processes, in process order."""
    base = dict(os.environ, JAX_PLATFORMS="cpu", ZPRIME_JAX_HOST_DEVICES="", JAX_NUM_CPU_DEVICES="2",
                JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{_free_port()}", JAX_NUM_PROCESSES="2")
    args = json.dumps({"masses": MASSES, "couplings": COUPLINGS, "limit_masses": LIMIT_MASSES})
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, args], env=dict(base, JAX_PROCESS_ID=str(i)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
        results.append(json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("RESULT"))[6:]))
    return results


def test_processes_match_this_process_and_its_parts(two_processes):
    """Four devices over two processes, gathered into each, equal this process's one-device scan bit for bit,
    and so does each part of it (``part=``: rows computed apart by the programs of the whole scan, NaN
    elsewhere)."""
    first, second = two_processes
    assert (first["process"], second["process"], first["devices"]) == (0, 1, 4)
    assert np.all(first["converged"]) and np.all(first["limits_converged"])
    ms = tuple(likelihood.asimov_measurement(build_kernel(n)) for n in ("ess-csi", "ess-ar"))
    model = MODELS["universal"]
    g = scan.delta_chi2_grid(ms, model, MASSES, COUPLINGS, progress=None)
    lim = limits.coupling_limits(ms, model, LIMIT_MASSES, chunk=2, progress=None)
    assert g.devices == 1
    mine = {"grid": g.delta_chi2, "lower": g.delta_chi2_lower, "converged": g.converged, "limits": lim["coupling"],
            "limits_converged": lim["converged"]}
    for key in KEYS:
        for got in (first, second):
            assert np.array_equal(np.asarray(got[key]), mine[key], equal_nan=True), key
    for rows in (slice(0, 2), slice(2, 7)):
        part = scan.delta_chi2_grid(ms, model, MASSES, COUPLINGS, progress=None, part=rows)
        assert np.array_equal(part.delta_chi2[rows], g.delta_chi2[rows])
        assert np.array_equal(part.converged[rows], g.converged[rows])
        others = np.ones(len(MASSES), dtype=bool)
        others[rows] = False
        assert np.all(np.isnan(part.delta_chi2[others])) and not np.any(part.decided[others])
    part = limits.coupling_limits(ms, model, LIMIT_MASSES, chunk=2, progress=None, part=slice(3, 5))
    assert np.array_equal(part["coupling"][3:], lim["coupling"][3:])
    assert np.all(np.isnan(part["coupling"][:3])) and part["status"][:3] == ["undecided"] * 3


def test_plan_and_devices():
    block, calls = sharding.plan(1000, 2, 64, 8)
    assert block % (2 * 64) == 0 and block * calls >= 1000 and (calls - 1) * block < 1000
    assert sharding.plan(1, 4, 16, 8) == (64, 1)
    assert len(sharding.local_devices(1)) == 1
    with pytest.raises(ValueError, match="devices"):
        sharding.local_devices(10_000)


def test_stored_programs_are_exported_once_loaded_after_and_give_the_same_bits(tmp_path, monkeypatch):
    """With a cache folder, a scan's block program is exported there on first use and loaded afterwards
    (no tracing); the loaded program gives the results of the one traced in this process, bit for bit;
    an unreadable file is exported again; another static (here the pass count) is another program."""
    from zprime_jax import config

    ar = (likelihood.asimov_measurement(build_kernel("ess-ar")),)
    model = MODELS["universal"]
    masses, gs = np.logspace(0, 3, 4), np.logspace(-7, -2, 9)

    def grid(**kw):
        return scan.delta_chi2_grid(ar, model, masses, gs, progress=None, refine=False, **kw).delta_chi2

    monkeypatch.setattr(sharding, "_STORED", {})
    monkeypatch.setattr(config, "_exported_dir", None)
    traced = grid()
    monkeypatch.setattr(config, "_exported_dir", str(tmp_path))
    exports = []
    real_export = sharding.jax.export.export
    monkeypatch.setattr(sharding.jax.export, "export", lambda f, **kw: exports.append(f) or real_export(f, **kw))
    first = grid()
    stored = sorted(tmp_path.glob("*.jaxexport"))
    assert len(exports) == 1 and len(stored) == 1 and stored[0].stat().st_size > 0
    sharding._STORED.clear()                       # as a new process: the program comes from the file
    again = grid()
    assert len(exports) == 1 and all(v is not None for v in sharding._STORED.values())
    np.testing.assert_array_equal(first, traced)
    np.testing.assert_array_equal(again, traced)
    stored[0].write_bytes(b"not a program")
    sharding._STORED.clear()
    np.testing.assert_array_equal(grid(), traced)
    assert len(exports) == 2 and stored[0].stat().st_size > 100
    grid(passes=3)
    assert len(exports) == 3 and len(list(tmp_path.glob("*.jaxexport"))) == 2
