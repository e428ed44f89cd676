"""A campaign over random small economies, solved by emgame and by an independent solver.

See ``benchmarks/README.md`` (section "The random-economy campaign") and :mod:`.run`.

Modules
-------
generator
    Seeded random economies over every feature of the model, writable to TOML.
agent
    One agent's problem by the market rules (analytic own-derivatives of :mod:`emgame.market`),
    its global best response by a generic optimiser (SLSQP, participation patterns enumerated).
check
    The independent checker: best-response gains, conservation, budgets, feasibility.
nash, competitive
    The independent solvers for the type-symmetric Nash equilibrium and the competitive
    benchmark.
run
    The campaign driver (resumable; one record per economy; tables by class and feature).

Nothing here imports ``emgame.solvers``, ``emgame.agents`` or ``emgame.certificate``: the
independent side uses only ``emgame.model`` (the economy data) and ``emgame.market`` (the rules
of the game). The driver imports ``emgame.solve`` to run emgame itself.
"""
