"""The market: pure functions from a strategy profile to prices, allocations, verification,
consumption and utility (docs/model.md, Prices and allocations to The crypto layer)."""

from emgame.market.game import (
    Outcome,
    Play,
    Profile,
    evaluate,
    others_totals,
    play,
    state_of_charge,
    storage_others_totals,
    totals,
)

__all__ = ["Outcome", "Play", "Profile", "evaluate", "others_totals", "play", "state_of_charge",
           "storage_others_totals", "totals"]
