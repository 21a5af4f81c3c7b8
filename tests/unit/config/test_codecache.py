"""The dataclass code cache: same classes as without it, a bad file is ignored, the file is
written once and then read (no compile), and the Lark table cache stays out of /tmp."""

from __future__ import annotations

import dataclasses
import marshal
import os
import stat
import sys
from importlib.util import MAGIC_NUMBER

import pytest

from keepalived_py.config import codecache, parser


def _make_class(cache: codecache.CodeCache):
    saved = dataclasses.__dict__.get("exec")
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    try:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Point:
            x: int
            y: int = 2
        return Point
    finally:
        if saved is None:
            del dataclasses.exec  # type: ignore[attr-defined]
        else:
            dataclasses.exec = saved  # type: ignore[attr-defined]


def test_round_trip_reuses_code(tmp_path):
    path = str(tmp_path / "pycache" / "dc.marshal")
    first = codecache.CodeCache(path)
    point = _make_class(first)
    assert first.new > 0
    assert first.save()
    assert first.new == 0
    second = codecache.CodeCache(path)
    assert set(second.codes) == set(first.codes)
    again = _make_class(second)
    assert second.new == 0  # nothing compiled: every text came from the file
    p, q = point(1), again(1)
    assert (p.x, p.y, repr(q)) == (1, 2, "_make_class.<locals>.Point(x=1, y=2)")
    assert again(1) == again(1, 2) and again(1) != again(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.x = 3  # type: ignore[misc]


@pytest.mark.parametrize("content", [b"", b"garbage", MAGIC_NUMBER + b"\xff\x00", MAGIC_NUMBER + marshal.dumps([1]),
                                     b"\x00\x00\x00\x00" + marshal.dumps({})])
def test_unreadable_cache_is_ignored(tmp_path, content):
    path = tmp_path / "dc.marshal"
    path.write_bytes(content)
    cache = codecache.CodeCache(str(path))
    assert cache.codes == {}
    point = _make_class(cache)
    assert point(5).x == 5


def test_cache_file_is_readable_by_all_under_the_daemons_umask(tmp_path):
    # the daemon runs under umask 0177; a later `-t` by another user must still read the file
    path = tmp_path / "dc.marshal"
    cache = codecache.CodeCache(str(path))
    _make_class(cache)
    old = os.umask(0o177)
    try:
        assert cache.save()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_unwritable_cache_is_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = codecache.CodeCache(str(blocker / "sub" / "dc.marshal"))  # a file where a folder should be
    _make_class(cache)
    assert cache.save() is False
    assert not list(tmp_path.glob("**/*.tmp"))


def test_config_classes_go_through_the_cache():
    import keepalived_py.config  # noqa: F401 - installs the cache
    if codecache._cache is None:
        pytest.skip("KPY_NO_CODE_CACHE is set")
    assert dataclasses.exec == codecache._cache.exec  # type: ignore[attr-defined]
    assert codecache.default_path().endswith(f"dataclass-code.{sys.implementation.cache_tag}.marshal")


def test_lark_table_cache_is_never_the_temp_dir(monkeypatch):
    where, final = parser._table_cache("start: X\n")
    assert where is False or "__pycache__" in str(where)
    monkeypatch.setattr(parser.os.path, "exists", lambda _p: False)
    monkeypatch.setattr(parser.os, "access", lambda _p, _m: True)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    where, final = parser._table_cache("start: X\n")
    # written under a name of this process, renamed into place; the name has the grammar's checksum
    assert where == f"{final}.{parser.os.getpid()}.tmp"
    assert final != parser._table_cache("start: Y\n")[1]
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert parser._table_cache("start: X\n") == (False, None)
