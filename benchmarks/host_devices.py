"""Host (CPU) device count for the benchmark scripts, set before JAX starts its backend.

JAX fixes the number of CPU devices when its backend starts, so the scripts call
:func:`configure_host_devices` first thing, before any JAX operation; the count is set
by :func:`zprime_jax.config.set_host_devices` (the public ``jax_num_cpu_devices`` option).
"""

from __future__ import annotations

from zprime_jax import config


def host_device_count(value: str) -> int | None:
    """``--devices`` value -> number of host (CPU) devices; "auto" -> None (:func:`config.set_host_devices`'s default).

    The default is ``ZPRIME_JAX_HOST_DEVICES`` if set, else a count already chosen through JAX
    (``JAX_NUM_CPU_DEVICES``, ``XLA_FLAGS``), else one device per usable core.
    """
    if value == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise SystemExit(f"--devices: need >= 1 or 'auto', got {value!r}")
    return n


def configure_host_devices(argv) -> int | None:
    """Set the host device count for ``--devices`` (from ``argv``); returns the count set, None if left to JAX."""
    value = "auto"
    for i, a in enumerate(argv):
        if a == "--devices" and i + 1 < len(argv):
            value = argv[i + 1]
        elif a.startswith("--devices="):
            value = a.split("=", 1)[1]
    try:
        return config.set_host_devices(host_device_count(value))
    except config.InputError as err:
        raise SystemExit(str(err)) from None
