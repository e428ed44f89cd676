"""``python -m emgame``: the ``emgame`` command."""

from emgame.cli import main

main()
