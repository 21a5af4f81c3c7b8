"""The per-block position table reads like the dict of SourcePos it replaces, and blocks
with the same keywords share one keyword tuple."""

from __future__ import annotations

import pickle

from keepalived_py.config import load_text
from keepalived_py.config.positions import Positions, compact
from keepalived_py.errors import SourcePos


def test_reads_like_a_dict():
    found = {"weight": SourcePos("k.conf", 3), "TCP_CHECK": SourcePos("k.conf", 4)}
    table = compact(dict(found), {})
    assert isinstance(table, Positions)
    assert table == found and found == table
    assert table["weight"] == SourcePos("k.conf", 3) and table.get("nope") is None
    assert list(table) == ["weight", "TCP_CHECK"] and "TCP_CHECK" in table and len(table) == 2
    assert pickle.loads(pickle.dumps(table)) == found


def test_mixed_files_or_columns_stay_a_dict():
    mixed = {"a": SourcePos("one.conf", 1), "b": SourcePos("two.conf", 2)}
    assert compact(mixed, {}) is mixed
    column = {"a": SourcePos("one.conf", 1, 5)}
    assert compact(column, {}) is column
    assert compact({}, {}) is None


def test_blocks_share_their_keyword_tuple():
    text = "".join(f"virtual_server 192.0.2.1 {80 + i} {{\n  real_server 198.51.100.1 80 {{\n    weight 1\n"
                   "    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n" for i in range(3))
    result = load_text(text)
    servers = [vs.real_server[0] for vs in result.config.virtual_server]
    assert [rs.kw_pos["weight"].line for rs in servers] == [3, 11, 19]
    assert servers[0].kw_pos.words is servers[1].kw_pos.words is servers[2].kw_pos.words
    assert servers[2].kw_end == {"TCP_CHECK": SourcePos("keepalived.conf", 22)}


def test_from_lines_is_compact_of_the_lines_positions():
    from keepalived_py.config.positions import from_lines
    from keepalived_py.config.preprocess import Line

    one = {"weight": Line(("weight", "1"), "weight 1", "k.conf", 3), "delay": Line(("delay",), "delay", "k.conf", 9)}
    shared: dict = {}
    table = from_lines(one, shared)
    assert isinstance(table, Positions)
    assert table == compact({w: line.pos for w, line in one.items()}, {})
    assert table.words is shared[("weight", "delay")]
    mixed = {"a": Line(("a",), "a", "one.conf", 1), "b": Line(("b",), "b", "two.conf", 2)}
    assert from_lines(mixed, {}) == {"a": SourcePos("one.conf", 1), "b": SourcePos("two.conf", 2)}
    assert not isinstance(from_lines(mixed, {}), Positions)
    assert from_lines({}, {}) is None
