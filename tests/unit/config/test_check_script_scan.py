"""validate/lvs.py runs check_check_scripts() (and imports the script runner and asyncio)
only when the configuration names a check script: every kind it checks still draws keepalived's
SECURITY VIOLATION, and a configuration without one loads without asyncio."""

from __future__ import annotations

import subprocess
import sys

import pytest

from keepalived_py.config import load_text
from keepalived_py.config.diagnostics import ConfigErr

_RS = "    real_server 192.0.2.2 80 {{\n{rs}        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n"
_VS = "virtual_server 192.0.2.1 80 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n{vs}" + _RS + "}}\n"


def _config(vs: str = "", rs: str = "", gd: str = "") -> str:
    head = f"global_defs {{\n{gd}}}\n" if gd else ""
    return head + _VS.format(vs=vs, rs=rs)


@pytest.mark.parametrize("parts", [
    {"vs": "    quorum_up /bin/true\n"},
    {"vs": "    quorum_down /bin/true\n"},
    {"rs": "        notify_up /bin/true\n"},
    {"rs": "        notify_down /bin/true\n"},
    {"rs": "        MISC_CHECK {\n            misc_path /bin/true\n        }\n"},
    {"gd": "    lvs_notify_fifo /tmp/kpy-fifo\n    lvs_notify_fifo_script /bin/true\n"},
    {"gd": "    notify_fifo /tmp/kpy-fifo\n    notify_fifo_script /bin/true\n"},
], ids=["quorum_up", "quorum_down", "notify_up", "notify_down", "misc", "lvs_fifo", "fifo"])
def test_each_check_script_kind_is_still_checked(parts):
    result = load_text(_config(**parts), config_id="scan")
    assert any(d.code == ConfigErr.SECURITY_ERROR and "check scripts" in d.message for d in result.diagnostics)


def test_no_check_script_no_violation_and_no_asyncio():
    text = _config()
    assert not any(d.code == ConfigErr.SECURITY_ERROR for d in load_text(text, config_id="scan").diagnostics)
    code = ("import sys\nfrom keepalived_py.config import load_text\n"
            f"r = load_text({text!r}, config_id='scan')\n"
            "assert not r.fatal, r.diagnostics\nprint('asyncio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
