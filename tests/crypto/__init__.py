"""Tests of the crypto layer (docs/model.md, The crypto layer): verification energy, participation,
states,
prepaid settlement and the increasing-returns example. A package, so that its module names
(``crypto.test_prepaid``, ...) do not clash with same-named modules elsewhere in ``tests/``."""
