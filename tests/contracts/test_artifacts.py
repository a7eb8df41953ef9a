"""The committed contract artifacts (contracts/build/) are exactly what build.js produces.

Rebuilds the contracts into a temporary folder and compares byte for byte: a stale or
hand-edited artifact fails here. Fix with `make contracts` and commit contracts/build/.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO_ROOT / "contracts"
COMMITTED_DIR = CONTRACTS_DIR / "build"
FIX_HINT = "run `make contracts` and commit contracts/build/"


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def rebuilt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot rebuild the contracts")
    if not (CONTRACTS_DIR / "node_modules").is_dir():
        pytest.skip("contracts/node_modules is absent (run `make contracts-deps`)")
    out = tmp_path_factory.mktemp("contracts-build")
    subprocess.run([node, str(CONTRACTS_DIR / "build.js"), "--out", str(out)], check=True)
    return out


def test_committed_artifacts_exist() -> None:
    assert (COMMITTED_DIR / "build-info.json").is_file(), f"no contracts/build/: {FIX_HINT}"


def test_same_set_of_files(rebuilt_dir: Path) -> None:
    committed = set(_files(COMMITTED_DIR)) if COMMITTED_DIR.is_dir() else set()
    rebuilt = set(_files(rebuilt_dir))
    assert committed == rebuilt, (
        f"missing from contracts/build/: {sorted(rebuilt - committed)}; "
        f"stale in contracts/build/: {sorted(committed - rebuilt)}; {FIX_HINT}"
    )


def test_artifacts_byte_identical(rebuilt_dir: Path) -> None:
    committed = _files(COMMITTED_DIR) if COMMITTED_DIR.is_dir() else {}
    rebuilt = _files(rebuilt_dir)
    differing = sorted(
        name for name in rebuilt.keys() & committed.keys() if rebuilt[name] != committed[name]
    )
    assert not differing, f"contracts/build/ differs from a fresh build in {differing}; {FIX_HINT}"
