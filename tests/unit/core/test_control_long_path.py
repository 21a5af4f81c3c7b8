"""A control socket whose path is longer than sun_path (108 bytes) still works: pid files in
deep folders (pytest's, a container's) put the socket there too."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from keepalived_py.core.control import ControlServer, query, reachable


def test_long_paths_bind_and_connect_through_the_folder(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = str(deep / "keepalived.ctl")
    assert len(path) > 108

    async def status(_req):
        return {"view": {"pid": os.getpid()}}

    async def go():
        srv = ControlServer(path, {"status": status})
        await srv.start()
        try:
            assert stat.S_ISSOCK(os.stat(path).st_mode)  # the file is where it was asked for
            reply = await asyncio.to_thread(query, path, {"cmd": "status"})
            assert reply == {"ok": True, "view": {"pid": os.getpid()}}
            with pytest.raises(OSError, match="another daemon"):
                await ControlServer(path, {"status": status}).start()
        finally:
            await srv.close()
        assert not os.path.exists(path)

    asyncio.run(go())


def test_short_paths_are_used_as_they_are(tmp_path):
    with reachable("/run/keepalived.ctl") as where:
        assert where == "/run/keepalived.ctl"
