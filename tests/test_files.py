"""voucher_chain/files.py: a replaced file holds the old text or the new, with the mode asked."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voucher_chain.files import write_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_and_replaces_with_the_mode_asked(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    write_atomically(path, "one\n")
    assert path.read_text() == "one\n" and _mode(path) == 0o644
    write_atomically(path, "two\n", mode=0o600)
    assert path.read_text() == "two\n" and _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp file left


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "authority.key"
    write_atomically(path, "old", mode=0o600)
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "new \ud800")  # a lone surrogate cannot be written as UTF-8
    assert path.read_text() == "old" and _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["authority.key"]
