"""The check child's notify FIFOs belong to their user (`lvs_notify_fifo NAME USER [GROUP]`,
else the script user), as keepalived's fifo_open() chowns them and as the vrrp child's do; an
unknown user leaves the FIFO out with keepalived's words."""

from __future__ import annotations

import asyncio
import os
import stat

from keepalived_py.check.notify import CheckNotifier
from keepalived_py.config import load_text
from keepalived_py.scripts.runner import ScriptRunner
from keepalived_py.scripts.security import ScriptUserError

CONF = """
global_defs {{
    lvs_notify_fifo {fifo} {user}
}}
virtual_server 192.0.2.1 80 {{
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.10 80 {{
        TCP_CHECK {{
        }}
    }}
}}
"""


class Runner(ScriptRunner):
    """Our own ids for "me", a refusal for "ghost": no root needed, and no chown attempted
    since the ids are ours."""

    asked: list[tuple[str | None, str | None]]

    def user_ids(self, user=None, group=None):
        self.asked.append((user, group))
        if user == "ghost":
            raise ScriptUserError("Unknown user ghost")
        return os.geteuid(), os.getegid()


def _start(tmp_path, user: str) -> tuple[CheckNotifier, Runner, list[str]]:
    logs: list[str] = []
    runner = Runner(log_fn=logs.append)
    runner.asked = []
    notifier = CheckNotifier(runner, logs.append)
    config = load_text(CONF.format(fifo=tmp_path / "lvs.fifo", user=user)).config

    async def main() -> None:
        await notifier.start(config)
        await notifier.stop()
    asyncio.run(main())
    return notifier, runner, logs


def test_fifo_is_made_for_its_user(tmp_path) -> None:
    _notifier, runner, logs = _start(tmp_path, "me")
    assert ("me", None) in runner.asked
    assert not any("fifo" in line for line in logs), logs


def test_unknown_fifo_user_leaves_it_out(tmp_path) -> None:
    notifier, _runner, logs = _start(tmp_path, "ghost")
    assert "Unknown user ghost" in logs
    assert f"Invalid user/group for lvs_ fifo {tmp_path / 'lvs.fifo'} - ignoring" in logs
    assert not (tmp_path / "lvs.fifo").exists()
    assert notifier.fifos == []


def test_chown_to_another_user_is_asked_of_the_kernel(tmp_path, monkeypatch) -> None:
    calls: list[tuple[str, int, int]] = []
    monkeypatch.setattr(os, "chown", lambda name, uid, gid: calls.append((str(name), uid, gid)))

    class Other(Runner):
        def user_ids(self, user=None, group=None):
            self.asked.append((user, group))
            return os.geteuid() + 4242, os.getegid()

    logs: list[str] = []
    runner = Other(log_fn=logs.append)
    runner.asked = []
    notifier = CheckNotifier(runner, logs.append)
    fifo = tmp_path / "lvs.fifo"
    config = load_text(CONF.format(fifo=fifo, user="")).config

    async def main() -> None:
        await notifier.start(config)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        await notifier.stop()
    asyncio.run(main())
    assert calls == [(str(fifo), os.geteuid() + 4242, -1)]
