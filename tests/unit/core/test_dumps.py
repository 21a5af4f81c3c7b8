"""Dump file names and the temporary-folder rule are keepalived's."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keepalived_py.observe import dumps


def test_tmp_dir_rule():
    assert dumps.tmp_dir({"TMPDIR": "/var/tmp/x"}) == "/var/tmp/x"
    assert dumps.tmp_dir({"TMPDIR": "relative"}) == "/tmp"
    assert dumps.tmp_dir({}) == "/tmp"


def test_file_names():
    n = dumps.DumpNaming("/t")
    assert dumps.file_for("vrrp", "data", n) == "/t/keepalived.data"
    assert dumps.file_for("parent", "data", n) == "/t/keepalived_parent.data"
    assert dumps.file_for("check", "data", n) == "/t/keepalived_check.data"
    assert dumps.file_for("bfd", "data", n) == "/t/keepalived_bfd.data"
    assert dumps.file_for("vrrp", "stats_clear", n) == "/t/keepalived.stats"
    assert dumps.file_for("vrrp", "json", n) == "/t/keepalived.json"
    assert dumps.file_for("check", "json", n) is None


def test_data_use_instance_names():
    n = dumps.DumpNaming("/t", True, "inst", "ns")
    assert dumps.file_for("vrrp", "data", n) == "/t/keepalived.ns_inst.data"
    assert dumps.file_for("vrrp", "stats", n) == "/t/keepalived.stats"
    n = dumps.DumpNaming("/t", True, "inst", None)
    assert dumps.file_for("parent", "data", n) == "/t/keepalived_parent.inst.data"


def test_write_section(tmp_path):
    n = dumps.DumpNaming(str(tmp_path))
    path = dumps.write_section("vrrp", "json", [{"iname": "VI_1"}], n)
    assert json.loads(Path(path).read_text()) == [{"iname": "VI_1"}]
    old = os.umask(0o177)  # keepalived's default umask
    try:
        path = dumps.write_section("vrrp", "data", "x", n)
    finally:
        os.umask(old)
    assert Path(path).read_text() == "x\n" and os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kpy")] == []
