"""The web pages' vendored browser builds match their pinned npm sources (as contracts/build is checked), the package
ships every asset, and the pages load nothing from outside the package (no CDN)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from node.web import STATIC

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.npm
def test_vendored_assets_match_their_sources() -> None:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.skip("node and the pinned npm packages are needed (scripts/bootstrap: npm ci)")
    out = subprocess.run(["node", "node/web/build.mjs", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.npm
def test_snarkjs_is_the_pinned_packages_browser_build() -> None:
    source = ROOT / "node_modules" / "snarkjs" / "build" / "snarkjs.min.js"
    if not source.is_file():
        pytest.skip("npm ci first")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(STATIC / "vendor" / "snarkjs.min.js") == digest(source)


def test_pages_reference_only_shipped_assets() -> None:
    """No CDN: every script and stylesheet a page loads is a /web/ path that exists in the package."""
    import re

    for page in ("explorer.html", "console.html"):
        html = (STATIC / page).read_text()
        refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
        assert refs and all(r.startswith("/web/") for r in refs), refs
        for ref in refs:
            assert (STATIC / ref.removeprefix("/web/")).is_file(), ref
    for module in STATIC.rglob("*.js"):
        for target in re.findall(r'from\s+"(\.[^"]+)"', module.read_text()[:20000]):
            assert (module.parent / target).resolve().is_file(), (module, target)


def test_package_data_ships_the_static_tree() -> None:
    import fnmatch
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["node.web"]
    base = STATIC.parent
    files = [p.relative_to(base).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missing, missing
