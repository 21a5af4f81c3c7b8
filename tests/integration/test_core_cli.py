"""Command-line answers match keepalived 2.2.7's byte for byte where they can: --signum,
option errors, stray arguments, --help. Runs both programs with the same argv; every case
here exits before keepalived would start anything.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary
from tests.integration.test_core_process import EMPTY_CONF, Daemon

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    ["--signum=STOP"], ["--signum=RELOAD"], ["--signum=DATA"], ["--signum=STATS"],
    ["--signum=STATS_CLEAR"], ["--signum=JSON"], ["--sig=JSON"], ["--signum", "DATA"],
    ["--signum=NOPE"], ["--signum=json"],
    # (not "--pid" last: keepalived 2.2.7 prints garbage for a missing long option value)
    ["-f"], ["--pid="], ["--bogus"], ["-Q"], ["--dont"], ["--all=3"],
    ["--bogus", "foo", "bar"], ["-g"], ["-S", "bad", "--bogus"], ["-fx", "-Q", "-p"],
    ["-nlD", "-Z"], ["--config-id="],
]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT,
                          stdin=subprocess.DEVNULL)


@pytest.mark.keepalived
@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_same_answer_as_keepalived(args):
    ref = run([keepalived_binary(), *args])
    ours = run([sys.executable, "-m", "keepalived_py.cli", *args])
    assert (ours.returncode, ours.stdout, ours.stderr) == (ref.returncode, ref.stdout, ref.stderr)


@pytest.mark.keepalived
def test_help_lists_the_same_options():
    ref = run([keepalived_binary(), "--help"])
    ours = run([sys.executable, "-m", "keepalived_py.cli", "--help"])
    assert ours.returncode == ref.returncode == 0
    assert ours.stderr.splitlines()[1:] == ref.stderr.splitlines()[1:]


def test_version_and_genhash():
    out = run([sys.executable, "-m", "keepalived_py.cli", "-v"])
    assert out.returncode == 0 and out.stderr.startswith("Keepalived v2.2.7 (01/16,2022)")
    out = run([sys.executable, "-m", "keepalived_py.cli", "-T"])
    # genhash mode without its options: keepalived's genhash usage, status 1
    assert out.returncode == 1 and " --genhash COMMAND [OPTIONS]\n" in out.stderr


def test_snmp_accepted_and_said_once(tmp_path):
    d = Daemon(tmp_path, EMPTY_CONF, ("-x", "-A", "/nonexistent/agent"))
    try:
        d.start()
        d.wait_log("Warning - keepalived has no configuration to run")
        assert d.log().count("SNMP is not supported by keepalived-py") == 1
        d.signal(signal.SIGTERM)
        assert d.wait_exit() == 0
    finally:
        d.cleanup()
