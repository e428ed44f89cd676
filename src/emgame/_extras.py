"""Optional dependencies ("extras"): import one, or say which extra to install.

emgame's core solves economies given in TOML with numpy and numba. Heavier parts are extras:

========== =============================================== ====================================
extra      installs                                        needed for
========== =============================================== ====================================
``tables`` pyarrow, pandas, jinja2                         consumer tables (Parquet, CSV),
                                                           ``--out result.parquet``,
                                                           ``Solution.to_frame()``, LaTeX export
``sweep``  dask[distributed], duckdb, pyarrow, pandas      sweeps and the results store
``report`` matplotlib                                      figures and HTML reports
``all``    all of the above
========== =============================================== ====================================
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS: dict[str, str] = {
    "pyarrow": "tables", "pandas": "tables", "jinja2": "tables", "duckdb": "sweep",
    "distributed": "sweep", "dask": "sweep", "matplotlib": "report",
}
"""The extra that brings each optional module."""


class MissingExtraError(ImportError):
    """An optional part of emgame is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, what: str) -> None:
        self.module, self.extra, self.what = module, extra, what
        super().__init__(f"{what} needs the optional package {module!r}, which is not "
                         f"installed; install it with: pip install 'emgame[{extra}]'")

    def __reduce__(self) -> tuple:
        return (type(self), (self.module, self.extra, self.what))


def require(module: str, extra: str | None = None, what: str = "this") -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the module is there but one of *its* imports is missing: a real error
        raise MissingExtraError(top, extra or EXTRAS.get(top, "all"), what) from None
