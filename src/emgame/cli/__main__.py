"""``python -m emgame.cli``: the ``emgame`` command."""

from emgame.cli import main

main()
