"""``python -m informer ...``: the ``informer`` command."""

import sys

from informer.cli import main

sys.exit(main())
