"""Entry point for `python -m judging`."""

import sys

from .cli import main

sys.exit(main())
