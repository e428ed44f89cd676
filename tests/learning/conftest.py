"""Shared fixtures of the learning tests: the small market environment of
learning_economies.py, tabulated once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emgame.learning import market_game, parse_learning

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learning_economies import COURNOT  # noqa: E402


@pytest.fixture(scope="session")
def cournot_spec():
    return parse_learning(COURNOT, "<cournot>")


@pytest.fixture(scope="session")
def cournot_game(cournot_spec):
    return market_game(cournot_spec)


@pytest.fixture(scope="session")
def miner_spec():
    from learning_economies import MINER

    return parse_learning(MINER, "<miner>")
