"""``python -m aqbench`` is the ``aqbench`` command."""

import sys

from aqbench.cli import main

sys.exit(main())
