"""``python -m node.cli``: the ``zkxai`` command."""

import sys

from node.cli.main import main

sys.exit(main())
