"""The fast profile's pass over the bins as native code on the CPU: one loop per point, not seven.

Why: XLA:CPU emits one loop per materialised array and does not fuse sibling reductions, so a pass of
:func:`.poisson_fast._evaluate` over the bins of eq. 4.1 (light-mediator paper) runs about seven loops
over ``[points, bins]`` (mu and 1/mu, feasibility, the three Hessian products, the deviance with its
logarithm); they were ~60 % of a warm grid scan (benchmarks/README.md, seventh and eighth
measurements). ``poisson_pass.cc`` computes the same five sums and the feasibility in one vectorised
loop per point, as an XLA FFI handler (``jax.ffi``).

How it is built: in the background when the command line starts (:func:`prefetch`), else on first use
in a process; with the system C++ compiler (``CXX``, else ``c++``) for this machine (``-O3
-march=native``), against jaxlib's FFI headers, into ``ZPRIME_JAX_NATIVE_DIR`` (default
``~/.cache/zprime_jax/native``; not XLA's compilation cache folder, so a fresh cache does not rebuild
it). The library's name is a hash of the source, the compiler command, jaxlib's version and the CPU, so
an edited source, another jaxlib or another machine sharing the folder builds its own (about 3 s, once,
silently). Two processes building at once each write their own file and rename it into place.

When it is not used: ``ZPRIME_JAX_NATIVE=0`` (or ``off``, ``no``, ``false``), no compiler or a failed
build (:func:`status` says why; one line on stderr), float32, and off the CPU (the program is lowered
with :func:`jax.lax.platform_dependent`: a GPU takes the XLA sums). The XLA sums
(:func:`.poisson_fast._bin_sums_xla`) are the reference: the same terms, in another order of summation
and with fused multiply-adds, so the two agree to rounding, not bit for bit (tests/test_native_pass.py);
every result of one process (and of processes on one machine) comes from one of them, so sharded and
unsharded scans stay bit-identical. Derivatives: :func:`.poisson_fast._bin_sums_native` gives the
native values the derivatives of XLA's sums (a forward-mode pass through the solver); the implicit
derivative of the profiled chi^2 (:func:`.poisson_fast._implicit_chi2`) uses XLA's sums throughout.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib

from .. import config
from ..errors import InputError

TARGET = "zprime_jax_poisson_pass"              # the FFI target name (also allowed in jax.export)
SOURCE = Path(__file__).with_name("poisson_pass.cc")
HANDLER = "ZprimeJaxPoissonPass"                # the handler symbol in the library
CXX_FLAGS = ("-O3", "-march=native", "-std=c++17", "-fopenmp-simd", "-shared", "-fPIC", "-w")
N_SUMS = 5                                      # sum n s^2/mu^2, n s b/mu^2, n b^2/mu^2, deviance, sum s
_OFF = ("0", "off", "no", "false")
_ON = ("", "1", "on", "yes", "true")

_enabled = True                                  # trace-time switch (:func:`disabled`)
_prefetched: dict = {}                           # "thread" building in the background; its "path" or "error"


def requested() -> bool:
    """Whether ``ZPRIME_JAX_NATIVE`` asks for the native pass (unset: yes); a bad value is an InputError."""
    text = os.environ.get(config.NATIVE_ENV, "").strip().lower()
    if text in _OFF:
        return False
    if text in _ON:
        return True
    raise InputError(f"{config.NATIVE_ENV}: need one of 1/on or 0/off, got {text!r}", field=config.NATIVE_ENV)


def _cpu_fingerprint() -> str:
    """What -march=native depends on: the machine, and on Linux the CPU's model and feature flags."""
    parts = [platform.machine(), platform.processor()]
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags", "Features")):
                parts.append(line)
                if line.startswith(("flags", "Features")):
                    break
    except OSError:
        pass
    return "\n".join(parts)


def _compiler(compiler: str | None) -> list[str]:
    """The compiler command's words: ``compiler``, else ``CXX``, else ``c++``."""
    return shlex.split(compiler or os.environ.get("CXX") or "c++")


def compile_command(output: Path, compiler: str | None = None) -> list[str]:
    """The compiler command that builds the library at ``output``."""
    return [*_compiler(compiler), *CXX_FLAGS, "-I", jax.ffi.include_dir(), str(SOURCE), "-o", str(output)]


def library_path(folder: str | os.PathLike | None = None, compiler: str | None = None) -> Path:
    """Where the library for this source, compiler, jaxlib and CPU lives (``folder`` default: the setting).

    The name hashes what the library depends on, not where the package is installed: the source's
    bytes, the compiler and its flags, jaxlib's version (its FFI headers) and the CPU."""
    folder = Path(folder or os.environ.get(config.NATIVE_DIR_ENV) or config.DEFAULT_NATIVE_DIR)
    h = hashlib.sha256(SOURCE.read_bytes())
    for part in (" ".join([*_compiler(compiler), *CXX_FLAGS]), jaxlib.__version__, _cpu_fingerprint()):
        h.update(b"\0" + part.encode())
    return folder / f"poisson_pass-{h.hexdigest()[:16]}.so"


def build(folder: str | os.PathLike | None = None, compiler: str | None = None) -> Path:
    """The library, compiled now (silently) unless already there; raises ``RuntimeError`` with the
    compiler's message."""
    path = library_path(folder, compiler)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
    cmd = compile_command(tmp, compiler)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"cannot run {cmd[0]!r}: {err}") from None
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{cmd[0]} failed (status {done.returncode}): " + " | ".join(tail))
    os.replace(tmp, path)                        # atomic: processes building together each rename their own
    return path


def load(path: Path):
    """Load the library at ``path`` and register its handler with XLA under :data:`TARGET` (CPU)."""
    lib = ctypes.cdll.LoadLibrary(str(path))
    jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(getattr(lib, HANDLER)), platform="cpu")
    return lib


def prefetch() -> None:
    """Start compiling the library in the background where it is asked for and not built yet.

    The command line calls this first thing, so that on a machine's first run the compiler works while
    the experiments' kernels are built rather than when the first scan is traced. A failure is kept and
    reported where the library is first needed."""
    if not requested() or "thread" in _prefetched or library_path().exists():   # the setting checked every call
        return

    def run():
        try:
            _prefetched["path"] = build()
        except Exception as err:                # noqa: BLE001  kept for _library to report
            _prefetched["error"] = err

    # not a daemon: a command that ends first still waits for the build (once per machine) to be renamed in
    _prefetched["thread"] = threading.Thread(target=run, name="zprime_jax native pass build")
    _prefetched["thread"].start()


@functools.cache
def _library():
    """(library or None, what happened): built, loaded and registered once per process."""
    if not requested():
        return None, f"off ({config.NATIVE_ENV})"
    try:
        if "thread" in _prefetched:
            _prefetched["thread"].join()
            if "error" in _prefetched:
                raise _prefetched["error"]
        path = build()                          # built (or prefetched) already: returns its path
        return load(path), f"native ({path})"
    except Exception as err:                    # noqa: BLE001  any failure: XLA's sums, and say why
        print(f"zprime_jax: the native pass over the bins is unavailable, using XLA's ({err}); set "
              f"{config.NATIVE_ENV}=0 to skip it", file=sys.stderr, flush=True)
        return None, f"unavailable ({err})"


def available() -> bool:
    """Whether the native pass is built, loaded and registered (builds it on first call)."""
    return _library()[0] is not None


def status() -> str:
    """``native (path)``, ``off (...)`` or ``unavailable (why)``."""
    return _library()[1]


def identity() -> str:
    """What a program traced now depends on (a stored program's key): the library, or ``xla``."""
    return status() if _enabled and available() else "xla"


@contextlib.contextmanager
def disabled():
    """Trace with the XLA sums inside the block (a trace-time switch: programs already compiled keep theirs)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def usable(dtype) -> bool:
    """Whether a pass traced now over ``dtype`` arrays takes the native sums (where it runs on the CPU)."""
    return _enabled and jnp.dtype(dtype) == jnp.float64 and available()


def _ffi(signal, background, data, xs, xb, with_chi2: bool):
    lead = signal.shape[:-1]
    out = (jax.ShapeDtypeStruct(lead + (N_SUMS,), signal.dtype), jax.ShapeDtypeStruct(lead, jnp.bool_))
    return jax.ffi.ffi_call(TARGET, out)(signal, background, data, jnp.broadcast_to(xs, lead),
                                         jnp.broadcast_to(xb, lead), with_chi2=with_chi2)


def _expanded(x, batched: bool, size: int, shape: tuple):
    """``x`` (batched along axis 0 or not) as an array of shape (size, *shape), broadcast from the right."""
    if not batched:
        return jnp.broadcast_to(x, (size, *shape))
    core = x.shape[1:]
    return jnp.broadcast_to(x.reshape((size,) + (1,) * (len(shape) - len(core)) + core), (size, *shape))


@functools.cache
def _batched_pass(with_chi2: bool):
    """The FFI call with its own batching rule: every point's operands at the front, background and data
    left per bin unless batched themselves (so a vmapped scan does not copy them per point)."""

    @jax.custom_batching.custom_vmap
    def call(signal, background, data, xs, xb):
        return _ffi(signal, background, data, xs, xb, with_chi2)

    @call.def_vmap
    def rule(size, in_batched, signal, background, data, xs, xb):
        sig_b, b_b, n_b, xs_b, xb_b = in_batched
        shape = signal.shape[1:] if sig_b else signal.shape
        lead = shape[:-1]
        signal = _expanded(signal, sig_b, size, shape)
        if b_b or n_b:
            background = _expanded(background, b_b, size, shape)
            data = _expanded(data, n_b, size, shape)
        out = call(signal, background, data, _expanded(xs, xs_b, size, lead), _expanded(xb, xb_b, size, lead))
        return out, (True, True)

    return call


def poisson_pass(signal, background, data, xs, xb, with_chi2: bool):
    """The five sums over the bins and the feasibility of eq. 4.1 at pulls (xs, xb), natively.

    ``signal`` (..., B) and ``background``, ``data`` (B) or (..., B) per bin; ``xs``, ``xb`` per point.
    Returns (sums of shape (..., 5): sum n s^2/mu^2, sum n s b/mu^2, sum n b^2/mu^2, the deviance
    sum [(mu - n) + n ln(n/mu)] (0 unless ``with_chi2``), sum s; feasible (...)), as
    :func:`.poisson_fast._bin_sums_xla`. Call only where :func:`usable`; vmap-able; not differentiable
    itself (:func:`.poisson_fast._bin_sums_native` adds the derivatives).
    """
    dt = signal.dtype
    args = (signal, jnp.asarray(background, dt), jnp.asarray(data, dt), jnp.asarray(xs, dt), jnp.asarray(xb, dt))
    return tuple(_varying_like(out, args) for out in _batched_pass(bool(with_chi2))(*args))


def _varying_like(out, args):
    """``out`` marked as varying over the manual (``shard_map``) mesh axes that any of ``args`` varies over:
    ``custom_vmap`` does not carry that type, and the other branch of the platform switch has it."""
    varying = frozenset().union(*(_varying_axes(a) for a in args))
    missing = tuple(sorted(varying - _varying_axes(out)))
    return jax.lax.pcast(out, missing, to="varying") if missing else out


def _varying_axes(x) -> frozenset:
    """The manual mesh axes that ``x`` varies over (none outside ``shard_map``)."""
    axis_type = getattr(jax.typeof(x), "manual_axis_type", None)
    return frozenset() if axis_type is None else frozenset(axis_type.varying)
