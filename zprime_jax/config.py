"""Global settings, called by the entry points (CLI, tests, notebooks, benchmarks), never by the library.

- :func:`enable_x64`: float64, which all the physics needs (the library does not switch it on at import);
- :func:`set_host_devices`: the number of CPU devices, so that grid scans shard over every core
  (``zprime_jax.inference.sharding``; results are bit-identical on 1 and N devices);
- :func:`enable_compilation_cache`: keep compiled XLA programs between runs, and the scans' traced
  programs (``inference.sharding``: exported with ``jax.export``, so a later run neither traces nor
  compiles them).

JAX is imported inside the functions: importing this module (or ``zprime_jax``) does not import it.
"""

from __future__ import annotations

import os

from .errors import InputError

HOST_DEVICES_ENV = "ZPRIME_JAX_HOST_DEVICES"
CACHE_DIR_ENV = "ZPRIME_JAX_CACHE_DIR"
MAX_HOST_DEVICES = 1024     # more host devices than this is a typo, not a machine
DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "zprime_jax", "xla")
EXPORTED_SUBDIR = "exported"   # the scans' exported programs, inside the cache folder
NATIVE_ENV = "ZPRIME_JAX_NATIVE"           # 0/off: the fast profile's pass over the bins in XLA, not native code
NATIVE_DIR_ENV = "ZPRIME_JAX_NATIVE_DIR"   # where the native pass is compiled to (likelihood.native_pass)
DEFAULT_NATIVE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "zprime_jax", "native")
_exported_dir: str | None = None
_XLA_DEVICE_COUNT_FLAG = "xla_force_host_platform_device_count"


def enable_x64() -> None:
    """Switch JAX to float64, required for the physics in this package."""
    import jax

    jax.config.update("jax_enable_x64", True)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _requested_host_devices() -> int | None:
    """The count in ``ZPRIME_JAX_HOST_DEVICES`` (None where unset or empty); a bad value is an InputError."""
    text = os.environ.get(HOST_DEVICES_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOST_DEVICES:
        raise InputError(f"{HOST_DEVICES_ENV}: need a whole number in [1, {MAX_HOST_DEVICES}], got {text!r}",
                         field=HOST_DEVICES_ENV)
    return int(text)


def set_host_devices(n: int | None = None) -> int | None:
    """Give JAX ``n`` CPU devices (``jax_num_cpu_devices``); returns the count set, None where left as it is.

    ``n`` None: ``ZPRIME_JAX_HOST_DEVICES`` if set (``1`` for a single device), else leave a count
    already chosen (``JAX_NUM_CPU_DEVICES`` / ``jax.config``, or ``--xla_force_host_platform_device_count``
    in ``XLA_FLAGS``) as it is, else one device per usable core. XLA:CPU runs one device's program
    largely on one core, so one device per core lets the vmapped scans use all of them.

    JAX fixes the count when it starts its backend (the first ``jax.devices()`` or array operation).
    There is no public query for that, so this relies on JAX's own check: after the start,
    ``jax.config.update("jax_num_cpu_devices", n)`` raises ``RuntimeError`` (unless ``n`` is the value
    already set), and the count is left as it is (None is returned; e.g. the CLI called from a Python
    session that has already used JAX). GPU and TPU backends are not affected: the option concerns
    the host platform only.

    Raises:
        InputError: ``n`` is not a positive integer, or ``ZPRIME_JAX_HOST_DEVICES`` is set to one that is not
            (the message names the variable).
    """
    import jax

    if n is None:
        n = _requested_host_devices()
        if n is None:
            if jax.config.jax_num_cpu_devices >= 0 or _XLA_DEVICE_COUNT_FLAG in os.environ.get("XLA_FLAGS", ""):
                return None                           # already chosen by the user: leave it to JAX
            n = usable_cores()
    elif isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n: need a positive integer number of host devices, got {n!r}", field="n")
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:                              # the backend has started: the count is fixed
        return None
    return n


def enable_compilation_cache(folder: str | os.PathLike | None = None) -> str | None:
    """Keep compiled XLA programs in ``folder`` between runs; returns the folder, None where disabled.

    ``folder`` None: ``ZPRIME_JAX_CACHE_DIR`` if set (empty disables the cache), else
    ``~/.cache/zprime_jax/xla``. Every program is stored, the small ones too (building the six ESS
    kernels and their Asimov data, second run: 2.7 s; 9.1 s when programs under 0.5 s were left out).
    """
    import jax

    if folder is None:
        folder = os.environ.get(CACHE_DIR_ENV, DEFAULT_CACHE_DIR)
    folder = os.fspath(folder)
    if not folder:
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise InputError(f"{CACHE_DIR_ENV}: cannot create the compilation cache folder {folder} "
                         f"({err.strerror or err}); set {CACHE_DIR_ENV} to a writable folder, or to an empty "
                         "value to run without the cache", field=CACHE_DIR_ENV) from None
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    global _exported_dir
    _exported_dir = os.path.join(folder, EXPORTED_SUBDIR)
    return folder


def exported_programs_dir() -> str | None:
    """Where the scans keep their exported programs: inside the compilation cache folder, None without one."""
    return _exported_dir


# --- several processes: jax.distributed -------------------------------------------------------------------
COORDINATOR_ENV = "JAX_COORDINATOR_ADDRESS"        # JAX's own name for the coordinator's host:port
NUM_PROCESSES_ENV = "JAX_NUM_PROCESSES"
PROCESS_ID_ENV = "JAX_PROCESS_ID"


def _slurm_tasks() -> int:
    """The task count of a SLURM job step (``srun``); 1 outside one."""
    text = os.environ.get("SLURM_STEP_NUM_TASKS") or os.environ.get("SLURM_NTASKS") or "1"
    return int(text) if text.isdigit() else 1


def start_distributed(coordinator: str | None = None, num_processes: int | None = None,
                      process_id: int | None = None) -> int:
    """Join a multi-process JAX run (``jax.distributed.initialize``); returns the number of processes.

    The arguments, else ``JAX_COORDINATOR_ADDRESS`` / ``JAX_NUM_PROCESSES`` / ``JAX_PROCESS_ID``; with none
    of them, a SLURM job step of several tasks (``srun``) is detected by JAX itself (the coordinator is
    the first node). Otherwise nothing is started (one process, 1 is returned). Must run before JAX starts
    its backend. On CPUs the processes' collectives (the gathering of results) go through gloo.

    Raises:
        InputError: only some of the three are given, or they are out of range (the message names the field).
    """
    import jax

    coordinator = coordinator or os.environ.get(COORDINATOR_ENV) or None
    given = {"coordinator": coordinator,
             "num_processes": num_processes if num_processes is not None else _env_int(NUM_PROCESSES_ENV),
             "process_id": process_id if process_id is not None else _env_int(PROCESS_ID_ENV)}
    if all(v is None for v in given.values()):
        if _slurm_tasks() < 2:
            return 1
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize()
        return jax.process_count()
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise InputError(f"{missing[0]}: a multi-process run needs the coordinator address, the number of "
                         f"processes and this process's id (missing: {', '.join(missing)})", field=missing[0])
    n, i = given["num_processes"], given["process_id"]
    if n < 1 or not 0 <= i < n:
        raise InputError(f"process_id: need 0 <= process_id < num_processes = {n}, got {i}", field="process_id")
    if ":" not in coordinator:
        raise InputError(f"coordinator: need HOST:PORT, got {coordinator!r}", field="coordinator")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, n, i)
    return n


def _env_int(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"{name}: need a whole number, got {text!r}", field=name)
    return int(text)


def is_lead_process() -> bool:
    """Process 0 of a multi-process run (the one that writes and prints), or the only process."""
    import jax

    return jax.process_index() == 0
