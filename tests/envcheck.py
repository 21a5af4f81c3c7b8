"""Checks for what a test needs from the machine, skipping with a reason when it is absent."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def require_all() -> bool:
    """True in CI: environment skips become failures."""
    return os.environ.get("KPY_REQUIRE_ALL", "") not in ("", "0")


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, raw sockets)")


def need_netns() -> None:
    need_root()
    if not shutil.which("ip"):
        pytest.skip("needs iproute2's `ip`")
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces unavailable: {probe.stderr.strip()}")


def keepalived_binary() -> str:
    path = shutil.which("keepalived") or ("/usr/sbin/keepalived" if os.path.exists("/usr/sbin/keepalived") else None)
    if not path:
        pytest.skip("needs the real keepalived (apt-get install keepalived; `make install` does it)")
    return path
