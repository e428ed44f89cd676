"""Numba settings shared by every compiled kernel, and one stamp for all of their caches.

Numba caches each compiled function beside its source (or in ``NUMBA_CACHE_DIR``) and marks the
cache stale when *that* file changes, not when a kernel it calls from another file does: after
an upgrade that changed only a callee, a stale caller would keep running the old code. So every
kernel of emgame gets one source stamp, a hash of all the package's files that hold kernels
(those that use ``njit``): change any of them and every cached kernel is recompiled. The stamp
is computed on first use, and nothing is written at import: the caches are numba's own,
written only when numba compiles, each stamp in a folder of its own (numba unpickles a cache
index before it compares stamps, so kernels of other sources must not share one).

Numba also compiles a kernel once per type of its arguments, and a read-only array, an unsigned
index or a constant ``True`` is a type of its own: records for kernels are built with
:func:`kernel_array` and constant flags passed as :func:`unliteral`, so that each kernel is
compiled once per problem (``tests/test_jit.py`` checks it).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

import numpy as np
from numba import njit as _njit
from numba import types
from numba.extending import intrinsic

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent


def njit(*args, **kwargs):
    """``numba.njit`` with on-disk caching and IEEE arithmetic (``x/0`` is ``inf``, not an
    exception)."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    return _njit(*args, **kwargs)


def kernel_array(values, dtype=np.float64) -> np.ndarray:
    """``values`` as a C-contiguous, writable array of ``dtype`` for a kernel's records (a copy
    only where it is not one already). Numba compiles a kernel once per type of its arguments,
    and a read-only array (an economy's frozen fields) is another type than a writable one:
    records built from both would compile every kernel that takes them twice."""
    a = np.ascontiguousarray(values, dtype=dtype)
    return a if a.flags.writeable else a.copy()


@intrinsic
def unliteral(typingctx, value):  # noqa: ANN001, ANN201, ARG001
    """``value`` (a constant flag or count) as a value of its type, known at run time only.
    Numba compiles a kernel once for each constant passed to it (``True``, ``False``) besides
    once for a variable: ``kernel(unliteral(True))`` uses the one compiled for variables."""
    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
        return context.cast(builder, args[0], signature.args[0], signature.return_type)
    return types.unliteral(value)(value), codegen


@functools.cache
def kernel_stamp() -> str:
    """A hash of the sources of every file of the package that uses ``njit`` (read once per
    process)."""
    digest = hashlib.sha256()
    for f in sorted(ROOT.rglob("*.py")):
        text = f.read_bytes()
        if b"njit" in text:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(text)
    return digest.hexdigest()


def _ours(py_file: str) -> bool:
    try:
        Path(py_file).resolve().relative_to(ROOT)
    except ValueError:
        return False
    return True


def _install_locators() -> None:
    """Put stamped versions of numba's file-backed cache locators first in its list."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover
        return
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    bases = [getattr(caching, name, None) or getattr(caching, "_" + name, None)
             for name in ("UserProvidedCacheLocator", "InTreeCacheLocator",
                          "UserWideCacheLocator")]
    if impl is None or any(b is None for b in bases):
        log.debug("numba cache locators not found: kernels keep numba's per-file stamps")
        return
    stamped = []
    for base in bases:
        def from_function(cls, py_func, py_file, _base=base):  # noqa: ANN001, ANN202
            if not _ours(py_file):
                return None
            return _base.from_function.__func__(cls, py_func, py_file)

        def cache_path(self, _base=base):  # noqa: ANN001, ANN202
            # One folder per stamp: numba unpickles an index before it compares stamps, and an
            # index written by other sources may name records that no longer exist.
            return str(Path(_base.get_cache_path(self)) / f"emgame-{kernel_stamp()[:16]}")

        stamped.append(type(f"Emgame{base.__name__}", (base,), {
            "get_source_stamp": lambda self: kernel_stamp(),
            "get_cache_path": cache_path,
            "from_function": classmethod(from_function),
        }))
    current = [c for c in impl._locator_classes if not c.__name__.startswith("Emgame")]
    impl._locator_classes = stamped + current


_install_locators()
