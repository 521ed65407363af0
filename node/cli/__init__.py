"""The ``zkxai`` command line: ``node`` (init, run, status), ``keys``, ``verify``, ``show``, ``trust``, ``demo``.

Owns argument parsing and the wiring of the roles below; may import every other role of :mod:`node`. The
entry point is :func:`node.cli.main.main` (``python -m node.cli``); light sub-commands (``verify``, ``show``,
``trust``) import only :mod:`node.verify` (and what it imports), so they run on the light install.
"""

from node.cli.main import main

__all__ = ["main"]
