"""``python -m ragseal.api.cli``: the console script without the installed launcher."""

import sys

from . import main

sys.exit(main())
