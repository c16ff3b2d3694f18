"""``python -m informer.cli ...``: the ``informer`` command."""

import sys

from informer.cli import main

sys.exit(main())
