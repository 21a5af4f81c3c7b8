"""Check-process script security beside keepalived -t (check_check_script_security()): the
"SECURITY VIOLATION - check scripts ..." line and the exit status 6, for MISC_CHECK scripts,
quorum and real server notify scripts and FIFO scripts, secure, insecure, missing, with and
without enable_script_security / script_user; from scripts/check_check.py and from our -t.
(keepalived -t does not print its "Disabling misc script" log lines.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from keepalived_py.config import load_text
from keepalived_py.scripts.check_check import check_check_scripts
from tests.envcheck import keepalived_binary, need_root

pytestmark = [pytest.mark.keepalived, pytest.mark.root]

CONFIG_TEST_SECURITY_EXIT = 6

VS = """
virtual_server 192.0.2.10 80 {{
    lb_algo rr
    lb_kind NAT
    protocol TCP
    {vs}
    real_server 192.0.2.11 80 {{
        {rs}
    }}
}}
"""
SECURE = "global_defs {{\n enable_script_security\n script_user root\n}}\n"


@pytest.fixture(scope="module")
def scripts():
    need_root()  # ownership checks: root-owned files in a root-owned directory
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
    plain = d / "plain.txt"
    plain.write_text("not a script\n")
    plain.chmod(0o644)
    yield {"safe": str(safe), "unsafe": str(unsafe), "plain": str(plain), "dir": d}
    shutil.rmtree(d)


MISC = 'MISC_CHECK {{\n misc_path "{script}"\n }}'
CASES = {
    "no_scripts": ("", "", "TCP_CHECK {{\n }}"),
    "misc": ("", "", MISC.replace("{script}", "{safe}")),
    "misc_with_args": ("", "", 'MISC_CHECK {{\n misc_path "{safe} a b"\n }}'),
    "misc_path_search": ("", "", 'MISC_CHECK {{\n misc_path "true"\n }}'),
    "misc_insecure": ("", "", MISC.replace("{script}", "{unsafe}")),
    "misc_missing": ("", "", MISC.replace("{script}", "/nonexistent/kpy.sh")),
    "misc_not_executable": ("", "", MISC.replace("{script}", "{plain}")),
    "misc_secure_enabled": (SECURE, "", MISC.replace("{script}", "{safe}")),
    "misc_insecure_enabled": (SECURE, "", MISC.replace("{script}", "{unsafe}")),
    "misc_user": ("", "", 'MISC_CHECK {{\n misc_path "{safe}"\n user root\n }}'),
    "rs_notify": ("", "", "notify_up {safe}\n notify_down {safe}"),
    "rs_notify_insecure": ("", "", "notify_down {unsafe}"),
    "quorum": ("", "quorum_up {safe}\n quorum_down {unsafe}", ""),
    "quorum_without_real_servers": ("", "quorum_up {safe}", None),
    "lvs_fifo_script": ("global_defs {{\n lvs_notify_fifo {dir}/fifo\n lvs_notify_fifo_script {safe}\n}}\n",
                        "", ""),
    "fifo_script": ("global_defs {{\n notify_fifo {dir}/fifo\n notify_fifo_script {unsafe}\n}}\n", "", ""),
    "enabled_no_scripts": (SECURE, "", "TCP_CHECK {{\n }}"),
}


def _keepalived(text: str, tmp_path: Path) -> tuple[int, list[str]]:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(text)
    proc = subprocess.run([keepalived_binary(), "-t", "-l", "-D", "-f", str(conf)],
                          capture_output=True, text=True, timeout=60)
    out = (proc.stdout + proc.stderr).splitlines()
    violations = [line[line.index("SECURITY VIOLATION"):] for line in out if "SECURITY VIOLATION" in line]
    return proc.returncode, violations


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_script_security_matches_keepalived(case, scripts, tmp_path):
    top, vs, rs = CASES[case]
    text = top.format(**scripts) + VS.format(vs=vs.format(**scripts), rs=(rs or "").format(**scripts))
    if rs is None:   # no real_server block at all
        text = text.replace("    real_server 192.0.2.11 80 {\n        \n    }\n", "")
        assert "real_server" not in text
    status, theirs = _keepalived(text, tmp_path)
    report = check_check_scripts(load_text(text).config)
    assert ([report.violation] if report.violation else []) == theirs
    assert (status == CONFIG_TEST_SECURITY_EXIT) == bool(theirs)
    # and our -t says and returns the same
    ours = subprocess.run([sys.executable, "-m", "keepalived_py.cli", "-t", "-f", str(tmp_path / "keepalived.conf")],
                          capture_output=True, text=True, timeout=60)
    our_lines = [line[line.index("SECURITY VIOLATION"):] for line in (ours.stdout + ours.stderr).splitlines()
                 if "SECURITY VIOLATION" in line]
    assert sorted(set(our_lines)) == theirs, ours.stderr
    assert (ours.returncode == CONFIG_TEST_SECURITY_EXIT) == bool(theirs), ours.stderr
