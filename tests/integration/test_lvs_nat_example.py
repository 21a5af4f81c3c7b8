"""The README's "LVS NAT" example runs as written: its shell lines (between the
lvs-nat-example markers) under a unique namespace and folder name, checked for what the README
says they print: -t accepts the configuration, the VIP answers with a real server's page, and
the check child's dump lists the virtual server, both real servers alive and their checkers up."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.envcheck import need_netns

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def example_script() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- lvs-nat-example -->\n```sh\n(.*?)```\n<!-- /lvs-nat-example -->", text, re.S)
    assert match, "README lost its LVS NAT example"
    return match.group(1)


def test_readme_script_is_found_and_uses_the_userspace_backend() -> None:
    script = example_script()
    assert "--lvs-backend=userspace" in script and "examples/lvs-nat.conf" in script


def test_readme_lvs_nat_example_runs() -> None:
    need_netns()
    if not shutil.which("curl"):
        pytest.skip("needs curl")
    name = f"kpyln{os.getpid() % 100000}"
    folder = Path(f"/tmp/{name}")
    script = example_script().replace("lvsdemo", name)
    try:
        res = subprocess.run(["bash", "-c", "set -e\n" + script], cwd=REPO, capture_output=True, text=True,
                             timeout=240)
        out = res.stdout
        assert res.returncode == 0, (out, res.stderr)
        assert out.startswith("configuration OK\nok\n"), out
        assert "VS VIP = 192.0.2.10, VPORT = 80" in out
        for rip, method in (("198.51.100.11", "TCP_CHECK"), ("198.51.100.12", "HTTP_GET")):
            assert f"RIP = {rip}, RPORT = 80" in out
            # keepalived's Health checkers section: a block per checker, headed
            # " [VIP]:tcp:80 -> [RIP]:tcp:80", with its Up state and method
            blocks = re.findall(rf"-> \[{re.escape(rip)}\]:tcp:80\n   Up = (\w+)\n   Keepalive method = (\w+)",
                                out)
            assert blocks == [("yes", method)], out
        assert "alive = 0" not in out, out
    finally:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
