"""Numba settings shared by every compiled kernel, and a guard for numba's on-disk cache.

Numba caches each compiled function beside its source and invalidates the cache when *that*
file changes, not when a kernel it calls from another file does: after an upgrade that changed
only a callee, a stale caller would keep running the old code. The kernels live in three files
that call one another, so their caches are cleared together whenever any of the three changes
(a hash of their sources is kept beside the caches).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from numba import njit as _njit

log = logging.getLogger(__name__)

_KERNELS = ("agents/_kernels.py", "agents/_dual.py", "solvers/_responses.py")


def njit(*args, **kwargs):
    """``numba.njit`` with on-disk caching and IEEE arithmetic (``x/0`` is ``inf``, not an
    exception)."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    return _njit(*args, **kwargs)


def _guard_cache() -> None:
    root = Path(__file__).parent
    try:
        digest = hashlib.sha256()
        for rel in _KERNELS:
            digest.update((root / rel).read_bytes())
        stamp = root / "agents" / "__pycache__" / "emgame-kernels.sha256"
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        for rel in _KERNELS:
            cache = (root / rel).parent / "__pycache__"
            stem = Path(rel).stem
            for f in list(cache.glob(f"{stem}.*.nbi")) + list(cache.glob(f"{stem}.*.nbc")):
                f.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError as err:  # a read-only install: numba then compiles in memory
        log.debug("numba cache guard skipped: %s", err)


_guard_cache()
