"""``python -m benchmarks.campaign``: see :mod:`benchmarks.campaign.run`."""

import sys

from .run import main

sys.exit(main())
