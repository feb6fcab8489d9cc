"""Host (CPU) device count for the benchmark scripts, set before JAX is imported.

JAX fixes the number of CPU devices when its backend starts, so the scripts call
:func:`configure_host_devices` first thing; this module must not import JAX.
"""

from __future__ import annotations

import os


def host_device_count(value: str) -> int:
    """``--devices`` value -> number of host (CPU) devices: "auto" = the cores this process may use."""
    if value == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = int(value)
    if n < 1:
        raise SystemExit("--devices: need >= 1 or 'auto'")
    return n


def configure_host_devices(argv) -> int | None:
    """Set XLA_FLAGS for ``--devices`` (from ``argv``) before JAX is imported; returns the count requested."""
    value = "auto"
    for i, a in enumerate(argv):
        if a == "--devices" and i + 1 < len(argv):
            value = argv[i + 1]
        elif a.startswith("--devices="):
            value = a.split("=", 1)[1]
    n = host_device_count(value)
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
    return n
