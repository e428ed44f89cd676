"""The compiled kernels' settings (``emgame._jit``). Numba compiles a kernel once per type of its
arguments, and a read-only array or a constant ``True`` is a type of its own: records built
from an economy's frozen arrays, or flags passed as constants, once compiled the certificate's
kernels four to twelve times over (a first run took 10 min 46 s where 4 min 46 s do)."""

from __future__ import annotations

from importlib.resources import files

import numba
import numpy as np
import pytest

from emgame import load_economy, solve
from emgame._jit import kernel_array, unliteral
from emgame.agents import _dual, _search
from emgame.solvers import _consumer, _producer, _records, _terms

EXAMPLES = ["ai_solar_day", "classic_peak_load", "prepaid", "long_run_capacity", "two_states",
            "verification_costs", "increasing_returns"]


def test_kernel_array_copies_only_what_a_kernel_could_not_take_as_it_is():
    """A writable C-contiguous array of the dtype is passed through (no copy: writes stay
    visible to the caller); a read-only one, or another dtype, becomes a writable copy."""
    a = np.arange(4.0)
    assert kernel_array(a) is a
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    b = kernel_array(frozen)
    assert b.flags.writeable and b.flags.c_contiguous and np.array_equal(b, frozen)
    assert kernel_array(np.array([1, 0, 2]), bool).tolist() == [True, False, True]
    assert kernel_array(np.arange(6.0).reshape(2, 3)[:, 1]).flags.c_contiguous


def test_unliteral_flags_compile_one_kernel_and_keep_their_value():
    """``kernel(unliteral(True))`` and ``kernel(unliteral(False))`` share the one compilation
    for a ``bool`` variable; plain constants would compile one each."""

    @numba.njit
    def callee(flag, n):
        return n if flag else -n

    @numba.njit
    def caller():
        return callee(unliteral(True), unliteral(3)), callee(unliteral(False), unliteral(3))

    assert caller() == (3, -3)
    assert len(callee.signatures) == 1
    assert str(callee.signatures[0][0]) == "bool"


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_kernel_compiles_once_whatever_the_economy(name):
    """Solving and certifying economies of every kind (strategic and price-taking certificates,
    prepaid, long run, several states, fixed costs, increasing returns) asks each of these
    kernels for one signature only, in this process and any test that ran before in it."""
    economy = load_economy(str(files("emgame") / "examples" / f"{name}.toml"))
    for concept in ("nash", "competitive"):
        solve(economy, concept)
    kernels = [_dual.consumer_dual, _dual.producer_dual, _dual._posts, _dual._capacity,
               _search.consumer_bounds, _search.producer_bounds, _search._consumer_type,
               _consumer._block, _consumer._slopes, _records.consumer, _producer.producer_eval,
               _terms.fixed_burn]
    for kernel in kernels:
        assert len(kernel.signatures) <= 1, (kernel.py_func.__name__, kernel.signatures)
