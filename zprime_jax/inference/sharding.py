"""Memory-bounded, device-sharded maps for the scans: ``shard_map`` over local devices, ``lax.map`` within.

:func:`sharded_map` applies a per-element function to 1-D inputs:

* the inputs are padded (with their first element) and split evenly over a
  1-D mesh of the local devices (``jax.sharding.Mesh``, axis ``"points"``);
* each device runs ``lax.map(fn, local_inputs, batch_size=batch_size)``: the
  function is vmapped over ``batch_size`` elements at a time and the batches
  run one after the other, so memory is bounded by one batch per device;
* the padded range is cut into at most ``max_calls`` equal blocks, one
  jitted call each (for progress reporting); every block has the same shape,
  so there is one compilation per (function, statics, batch size, block
  shape, devices), cached across calls (new values do not recompile).

Every element is computed by the same compiled batch program whatever the
number of devices (the batch width never depends on it: it is at most
1/``BATCH_SPLIT`` of the elements), so results are identical, bit for bit,
on 1 and N devices. (The batch width itself does change the last bits,
~1e-10 in Delta chi^2, through XLA's vectorisation.)

Devices. On a CPU host JAX shows one device by default (XLA's CPU backend
then uses one core for these element-wise programs); to use every core, set
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (N = number of cores)
before JAX is imported (the ``zprime-jax`` command does this itself: one
device per usable core, ``ZPRIME_JAX_HOST_DEVICES`` to choose). On GPU/TPU
hosts every local accelerator is used.

Parts. ``part`` (a slice of the elements) computes only those elements,
each with the very program of the whole call (the batch width is chosen from
the whole element count), and fills the others (NaN, False, 0): the parts of
a scan computed apart (batch jobs, ``--shard I/N``) are bit-identical to the
rows of the whole scan.

Stored programs. With the compilation cache on (:func:`zprime_jax.config.enable_compilation_cache`,
as the ``zprime-jax`` command does) each block program is exported (``jax.export``) into the cache
folder the first time, under a key of everything that defines it (the function, the statics, the
inputs' structure, shapes and dtypes, the devices, the versions of JAX and of this package's source,
the native pass over the bins or XLA's: ``likelihood.native_pass.identity``);
a later run loads it instead of tracing the Python code again (seconds for a six-detector analysis),
and the compilation cache then has its executable. Cold and warm runs call the same exported program,
so their results are identical.

Multiple processes. Under ``jax.distributed`` (:func:`zprime_jax.config.start_distributed`:
one process per host or per GPU) the mesh spans every process's devices
(``jax.devices()``); each process passes the same inputs (``jax.device_put``
places each process's rows on its devices), computes the elements on its own
devices, and the outputs are gathered into every process
(``multihost_utils.process_allgather``). The batch width does not depend on
the device count, so the results are bit-identical to a one-process run.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import time
from pathlib import Path

import jax
import jaxlib
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from ..errors import InputError
from ..io.progress import progress_bar
from ..likelihood import native_pass

AXIS = "points"
BATCH_SPLIT = 4          # a batch holds at most 1/BATCH_SPLIT of the elements
_COMPILED: dict = {}


def local_devices(devices=None) -> tuple:
    """The devices to shard over: ``devices`` if given (a sequence or an int count of local devices), else
    every device of the run (the local ones; under ``jax.distributed`` those of every process)."""
    if devices is None:
        return tuple(jax.devices() if jax.process_count() > 1 else jax.local_devices())
    if isinstance(devices, int):
        avail = jax.local_devices()
        if not 1 <= devices <= len(avail):
            raise InputError(f"devices: need 1..{len(avail)}, got {devices}")
        return tuple(avail[:devices])
    devs = tuple(devices)
    if not devs:
        raise InputError("devices: empty")
    return devs


def mesh_for(devices) -> Mesh:
    return Mesh(np.asarray(devices, dtype=object), (AXIS,))


def block_function(fn, devices: tuple, batch_size: int, statics: tuple):
    """The jitted, sharded block program: ``lax.map(fn, ..., batch_size)`` inside ``shard_map`` (cached)."""
    key = (fn, devices, batch_size, statics)
    if key not in _COMPILED:
        mesh = mesh_for(devices)

        def local(mapped, replicated):
            return jax.lax.map(lambda xs: fn(*xs, *replicated, *statics), mapped, batch_size=batch_size)

        _COMPILED[key] = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P(AXIS), P()), out_specs=P(AXIS)))
    return _COMPILED[key]


@functools.cache
def _source_hash() -> str:
    """SHA-256 of this package's Python source (a stored program is valid for the code that traced it)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _program_key(fn, devices: tuple, batch_size: int, statics: tuple, example) -> str:
    """Everything that defines a block program, hashed (``example``: the call's arguments)."""
    leaves, tree = jax.tree_util.tree_flatten(example)
    parts = [_source_hash(), jax.__version__, jaxlib.__version__, f"{fn.__module__}.{fn.__qualname__}",
             repr(statics), str(batch_size), str(tree), repr([(np.shape(x), str(x.dtype)) for x in leaves]),
             repr([(d.platform, d.device_kind, d.id, d.process_index) for d in devices]),
             repr((jax.config.jax_enable_x64, jax.config.jax_default_matmul_precision)), native_pass.identity()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


_STORED: dict = {}


def compiled_block(f, fn, devices: tuple, batch_size: int, statics: tuple, example):
    """The compiled block program of ``f`` for arguments like ``example``: from the exported program in the
    cache folder (exported and stored on first use: module docstring), or from ``f`` itself where there
    is no folder, under several processes, or where it cannot be exported. Returns a callable of the
    block's arguments."""
    from .. import config

    folder = config.exported_programs_dir()
    stored = None
    if folder is not None and jax.process_count() == 1:
        key = _program_key(fn, devices, batch_size, statics, example)
        if key not in _STORED:
            exported = _exported(f, Path(folder) / f"{key}.jaxexport", example)
            _STORED[key] = None if exported is None else jax.jit(exported.call)
        stored = _STORED[key]
    if stored is None:
        return f.lower(*example).compile()
    run = stored.lower(*jax.tree_util.tree_leaves(example)).compile()
    return lambda *args: run(*jax.tree_util.tree_leaves(args))


def _exported(f, path: Path, example):
    """The program at ``path``, or ``f`` exported there now (with flat inputs: the arrays of ``example``);
    None where it cannot be exported (e.g. a custom call JAX does not export)."""
    try:
        return jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception:                                  # noqa: BLE001  absent or unreadable: export it again
        pass
    leaves, tree = jax.tree_util.tree_flatten(example)

    def flat(*arrays):
        return f(*jax.tree_util.tree_unflatten(tree, arrays))

    try:
        allow = [jax.export.DisabledSafetyCheck.custom_call(native_pass.TARGET)]   # registered by its identity()
        exported = jax.export.export(jax.jit(flat), disabled_checks=allow)(*leaves)
        blob = exported.serialize()
    except Exception:                                  # noqa: BLE001  not exportable: traced every run
        return None
    os.makedirs(path.parent, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)                              # atomic: the parts of a scan may start together
    return exported


def plan(n: int, n_devices: int, batch_size: int, max_calls: int):
    """(block, calls): elements per jitted call (a multiple of n_devices * batch_size) and the number of calls."""
    unit = n_devices * batch_size
    units = max(1, math.ceil(n / unit))
    calls = max(1, min(max_calls, units))
    per_call = math.ceil(units / calls)
    calls = math.ceil(units / per_call)
    return per_call * unit, calls


def batch_width(n: int, batch_size: int) -> int:
    """The lax.map batch width for ``n`` elements: ``batch_size``, at most ``ceil(n / BATCH_SPLIT)``.

    The width changes the compiled program (and the last bits of results), so it depends on the element
    count of the whole call only, never on the device count or on a part; capping it at n / BATCH_SPLIT
    keeps up to BATCH_SPLIT devices busy on small problems.
    """
    return max(1, min(int(batch_size), math.ceil(n / BATCH_SPLIT)))


def _filled(shapes, n: int, part_index, part_out):
    """Full-length outputs (leading dimension n): the part's rows, NaN / False / 0 elsewhere."""
    def fill(spec, got):
        kind = np.dtype(spec.dtype).kind
        value = np.nan if kind in "fc" else (False if kind == "b" else 0)
        full = np.full((n, *spec.shape), value, dtype=spec.dtype)
        full[part_index] = got
        return full

    return jax.tree_util.tree_map(fill, shapes, part_out)


def _gather(out):
    """Outputs as NumPy arrays, gathered from every process where the mesh spans several."""
    leaves = jax.tree_util.tree_leaves(out)
    if leaves and not leaves[0].is_fully_addressable:
        from jax.experimental import multihost_utils

        out = multihost_utils.process_allgather(out, tiled=True)
    return jax.tree_util.tree_map(np.asarray, out)


def sharded_map(fn, inputs, replicated=(), statics=(), batch_size: int = 256, devices=None,
                max_calls: int = 8, label: str = "scan", progress=None, part: slice | None = None,
                exact_batch: bool = False, unit: str = "element"):
    """``fn(*elements, *replicated, *statics)`` for every element of the 1-D ``inputs``, sharded and batched.

    Args:
      fn: a module-level function (its identity keys the compilation cache)
        of one element of each input, then the ``replicated`` pytrees (arrays,
        the same on every device) and the hashable ``statics``; returns a
        pytree of arrays (any trailing shape).
      inputs: tuple of equal-length 1-D arrays.
      batch_size: elements vmapped together per ``lax.map`` step per device (at most
        ``ceil(n / BATCH_SPLIT)``).
      devices: see :func:`local_devices`.
      max_calls: at most this many jitted calls (progress updates).
      label: the label of the progress bar (:func:`zprime_jax.io.progress.progress_bar`) on the stream
        ``progress`` (None, the default: silent).
      unit: what the progress bar counts (e.g. "row", "point").
      part: compute only these elements (a slice of range(n); module docstring); the outputs keep the
        leading dimension n, filled elsewhere.
      exact_batch: use ``batch_size`` as it is (not capped by the element count): for calls whose
        element count differs between a part and the whole scan.
    Returns: (outputs with leading dimension n as NumPy arrays, (compile_s, run_s, n_devices)).
    """
    devs = local_devices(devices)
    inputs = tuple(np.asarray(x) for x in inputs)
    n = inputs[0].shape[0]
    if n == 0:
        raise InputError("sharded_map: empty input")
    batch_size = int(batch_size) if exact_batch else batch_width(n, batch_size)
    if part is not None:
        index = np.arange(n)[part]
        shapes = jax.eval_shape(lambda *xs: fn(*xs, *replicated, *statics), *(x[0] for x in inputs))
        if index.size == 0:
            return _filled(shapes, n, index, jax.tree_util.tree_map(
                lambda sp: np.zeros((0, *sp.shape), sp.dtype), shapes)), (0.0, 0.0, len(devs))
        got, timing = _map(fn, tuple(x[index] for x in inputs), replicated, statics, batch_size, devs,
                           max_calls, label, progress, unit)
        return _filled(shapes, n, index, got), timing
    return _map(fn, inputs, replicated, statics, batch_size, devs, max_calls, label, progress, unit)


def _map(fn, inputs, replicated, statics, batch_size, devs, max_calls, label, progress, unit):
    """:func:`sharded_map` of every element of ``inputs`` at the given batch width."""
    n = inputs[0].shape[0]
    block, calls = plan(n, len(devs), batch_size, max_calls)
    total = block * calls
    padded = [np.concatenate([x, np.repeat(x[:1], total - n, axis=0)]) for x in inputs]
    f = block_function(fn, devs, batch_size, tuple(statics))
    mesh = mesh_for(devs)
    split = NamedSharding(mesh, P(AXIS))
    repl = jax.device_put(replicated, NamedSharding(mesh, P()))

    def args(i):     # every process holds the same host inputs: device_put places each its devices' rows
        return (tuple(jax.device_put(p[i * block:(i + 1) * block], split) for p in padded), repl)

    t0 = time.perf_counter()
    first = args(0)
    run = compiled_block(f, fn, devs, batch_size, tuple(statics), first)   # tracing and compilation timed apart
    compile_s = time.perf_counter() - t0
    outs = []
    t1 = time.perf_counter()
    with progress_bar(label, n, progress, unit) as bar:
        for i in range(calls):
            outs.append(run(*(first if i == 0 else args(i))))
            if progress is not None:     # dispatch is asynchronous: wait, so the bar shows work done
                jax.block_until_ready(outs[-1])
                bar.update(min(block, n - i * block))
    jax.block_until_ready(outs)
    run_s = time.perf_counter() - t1
    out = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs)[:n], *(_gather(o) for o in outs))
    return out, (compile_s, run_s, len(devs))
