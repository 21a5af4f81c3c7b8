"""SECURITY VIOLATION parity with keepalived -t (check_vrrp_script_security())."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from keepalived_py.config import load_text
from keepalived_py.scripts.vrrp_check import CONFIG_TEST_SECURITY_EXIT, check_vrrp_scripts
from tests.envcheck import keepalived_binary, need_root

pytestmark = [pytest.mark.keepalived, pytest.mark.root]

INSTANCE = """
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.18
    }}
    {body}
}}
"""


@pytest.fixture(scope="module")
def scripts():
    need_root()  # script ownership checks: root-owned files in a root-owned directory
    d = Path(tempfile.mkdtemp(dir="/tmp"))
    d.chmod(0o755)
    safe = d / "safe.sh"
    safe.write_text("#!/bin/sh\nexit 0\n")
    safe.chmod(0o755)
    loose = d / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    unsafe = loose / "unsafe.sh"
    unsafe.write_text("#!/bin/sh\nexit 0\n")
    unsafe.chmod(0o755)
    yield {"safe": str(safe), "unsafe": str(unsafe), "dir": d}
    shutil.rmtree(d)


CASES = {
    "no_scripts": ("", ""),
    "track_script": ('vrrp_script chk {{\n script "{safe}"\n}}\n', "track_script {{\n chk\n }}"),
    "unused_script_counts": ('vrrp_script chk {{\n script "{safe}"\n}}\n', ""),
    "path_search": ('vrrp_script chk {{\n script "true"\n}}\n', "track_script {{\n chk\n }}"),
    "notify": ("", 'notify_master "{safe} x"'),
    "insecure": ('vrrp_script chk {{\n script "{unsafe}"\n}}\n', "track_script {{\n chk\n }}"),
    "secure_enabled": ("global_defs {{\n enable_script_security\n script_user root\n}}\n"
                       'vrrp_script chk {{\n script "{safe}"\n}}\n', "track_script {{\n chk\n }}"),
    "insecure_enabled": ("global_defs {{\n enable_script_security\n script_user root\n}}\n"
                         'vrrp_script chk {{\n script "{unsafe}"\n}}\n', "track_script {{\n chk\n }}"),
    "missing_script": ('vrrp_script chk {{\n script "/nonexistent/kpy.sh"\n}}\n', "track_script {{\n chk\n }}"),
    "fifo_script": ('global_defs {{\n vrrp_notify_fifo {dir}/fifo\n vrrp_notify_fifo_script "{safe}"\n}}\n', ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_violation_matches_keepalived(case, scripts, tmp_path):
    top, body = CASES[case]
    text = top.format(**scripts) + INSTANCE.format(body=body.format(**scripts))
    conf = tmp_path / "keepalived.conf"
    conf.write_text(text)
    proc = subprocess.run([keepalived_binary(), "-t", "-l", "-D", "-f", str(conf)],
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    theirs = [line for line in out.splitlines() if "SECURITY VIOLATION" in line]
    report = check_vrrp_scripts(load_text(text).config)
    ours = [report.violation] if report.violation else []
    assert ours == theirs, out
    assert (proc.returncode == CONFIG_TEST_SECURITY_EXIT) == bool(ours), out
