"""Analysis on top of the solvers.

Comparative statics (sweeps): :mod:`emgame.analysis.sweep` reads and expands sweep files,
:mod:`emgame.analysis.paths` names and changes economy fields, :mod:`emgame.analysis.summary`
flattens a solution into the numbers a sweep stores, :mod:`emgame.analysis.worker` solves a task
of points on a worker, and :mod:`emgame.analysis.runner` sends tasks to Dask (or a plain loop) and
results to a sink such as :class:`emgame.store.Store`.

Nothing is imported here, so that importing one module does not import the others (and
importing :mod:`emgame` never imports Dask).
"""
