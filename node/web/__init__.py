"""The node's web pages: the public explorer (``/explorer``) and the operator console (``/console``).

Static assets only (HTML, CSS, ES modules), shipped in the package and served by the node: no CDN, works offline.
``static/vendor`` holds the browser builds of pinned npm packages (snarkjs, circomlibjs' Poseidon, js-sha3), built
by ``build.mjs`` and checked against their sources by ``tests/test_web_assets.py``. The in-browser verifier
(``static/js/verify``) runs ``zkxai verify``'s checks in the visitor's browser. The HTTP side is
:mod:`node.api.web_pages`.
"""

from pathlib import Path

#: The directory served under ``/web/``.
STATIC = Path(__file__).resolve().parent / "static"

__all__ = ["STATIC"]
