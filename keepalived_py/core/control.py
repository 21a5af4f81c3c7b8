"""The parent's observation side: the control socket, the metrics endpoint, the state view.

The parent gathers one view per request: the vrrp child's snapshot (asked over ipc, with a
deadline, so a busy or dead child makes `vrrp` None, never a hung request) plus what only
the parent knows (children, respawns, reloads, the running config's hash). Both the
metrics endpoint (--metrics-listen, observe/http.py) and the control socket serve it.

The control socket is a unix socket beside the parent's pid file ("<pidfile stem>.ctl",
or --control-socket), mode 0600 and owned by root; a client must be root (checked again
with SO_PEERCRED). One request per connection: a JSON line {"cmd": "status"}, answered by
one JSON line. It is never a network port.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import stat
import struct
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.observe.http import MetricsServer

# observe.http (prometheus_client, ~50 ms and a few MiB) is imported only when
# --metrics-listen asks for the endpoint

SNAPSHOT_TIMEOUT = 2.0
#: children asked for their state (observe/status.py vrrp_view, observe/check.py check_view;
#: their dump hook's "snapshot" kind)
SNAPSHOT_ROLES = ("vrrp", "check")
REQUEST_TIMEOUT = 5.0
#: the check child loads the new configuration to preview it: a large one takes a while
PREVIEW_TIMEOUT = 50.0
MAX_REQUEST = 64 * 1024


def control_path(opts: Any, parent_pidfile: str) -> str:
    """--control-socket, else the parent's pid file with .ctl for .pid (so a daemon run
    with -p /x/ka.pid is found by `--status -p /x/ka.pid`)."""
    given = getattr(opts, "control_socket", None)
    if given:
        return str(given)
    stem, ext = os.path.splitext(parent_pidfile)
    return (stem if ext == ".pid" else parent_pidfile) + ".ctl"


# sun_path holds 108 bytes with its terminating NUL
_SUN_PATH_MAX = 107


@contextlib.contextmanager
def reachable(path: str) -> Iterator[str]:
    """`path` as bind()/connect() can take it: a path longer than sun_path goes through the
    directory's /proc/self/fd entry (the socket file still lands beside the pid file)."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield path
        return
    fd = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{os.path.basename(path)}"
    finally:
        os.close(fd)


def _peer_uid(sock: socket.socket) -> int | None:
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class ControlServer:
    """Answers {"cmd": ...} requests on the control socket with `handlers[cmd](request)`."""

    def __init__(self, path: str, handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]],
                 log: Any = None) -> None:
        self.path = path
        self.handlers = handlers
        self.log = log
        self.server: Any = None

    async def start(self) -> None:
        self._clear_stale()
        old = os.umask(0o177)
        try:
            with reachable(self.path) as where:
                self.server = await asyncio.start_unix_server(self._client, where, limit=MAX_REQUEST)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        if os.geteuid() == 0:
            os.chown(self.path, 0, 0)

    def _clear_stale(self) -> None:
        """A socket file left by a daemon that died is removed; a live one is not ours."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(f"{self.path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with reachable(self.path) as where:
                probe.connect(where)
        except OSError:
            os.unlink(self.path)
        else:
            raise OSError(f"another daemon answers on {self.path}")
        finally:
            probe.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            reply = await self._answer(reader, writer)
            writer.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
            await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT)
        except (TimeoutError, ConnectionError):
            pass
        except Exception as exc:  # noqa: BLE001 - a bad client never takes the parent down
            if self.log is not None:
                self.log.info(f"control socket: {exc!r}")
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
        except (ValueError, asyncio.LimitOverrunError):
            line = b""
        sock = writer.get_extra_info("socket")
        uid = _peer_uid(sock) if sock is not None else None
        if uid != 0:
            return {"ok": False, "error": "permission denied: the control socket answers root only"}
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "bad request: one JSON object per line expected"}
        handler = self.handlers.get(request.get("cmd")) if isinstance(request, dict) else None
        if handler is None:
            return {"ok": False, "error": f"unknown command; known: {', '.join(sorted(self.handlers))}"}
        return {"ok": True, **await handler(request)}


def query(path: str, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """Client side (--status): one request, one reply. Raises OSError when no daemon
    answers (FileNotFoundError / ConnectionRefusedError) or the socket is not ours to use
    (PermissionError)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        with reachable(path) as where:
            s.connect(where)
        try:
            s.sendall(json.dumps(request).encode() + b"\n")
        except BrokenPipeError:
            pass  # the daemon answered (a refusal) before reading: read it
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    reply = json.loads(b"".join(chunks) or b"{}")
    if not isinstance(reply, dict):
        raise ValueError("unexpected reply from the daemon")
    return reply


class ParentObservers:
    """Builds the state view for a Supervisor and serves it (metrics, control socket)."""

    def __init__(self, supervisor: Any) -> None:
        self.sup = supervisor
        self.metrics: MetricsServer | None = None
        self.control: ControlServer | None = None
        self._hash_for: Any = None
        self._hash = ""

    def config_hash(self) -> str:
        """sha256 over the configuration files read (main file and includes, in order)."""
        result = self.sup.result
        if result is not self._hash_for:
            h = hashlib.sha256()
            for name in getattr(result, "files", None) or [self.sup.opts.conf_file]:
                try:
                    with open(name, "rb") as f:
                        h.update(f.read())
                except OSError:
                    h.update(f"(unreadable {name})".encode())
            self._hash_for, self._hash = result, h.hexdigest()
        return self._hash

    def parent_view(self) -> dict[str, Any]:
        children = {}
        for role, c in self.sup.children.items():
            children[role] = {"alive": bool(c.alive), "pid": c.pid if c.alive else None,
                              "respawns": max(0, c.starts - 1)}
        return {"pid": os.getpid(), "config_file": self.sup.opts.conf_file,
                "config_hash": self.config_hash(), "reloads": getattr(self.sup, "reloads", 0),
                "reload_failures": getattr(self.sup, "reload_failures", 0), "children": children,
                "time": time.time()}

    async def view(self) -> dict[str, Any]:
        """{"vrrp": ..., "check": ..., "parent": ...}: each child's snapshot (None when it does
        not run, answer in time, or answer with a dict), asked at once."""
        roles = SNAPSHOT_ROLES
        replies = await asyncio.gather(*(self.sup.ask(r, "snapshot", SNAPSHOT_TIMEOUT) for r in roles))
        out: dict[str, Any] = {r: (rep.json if rep is not None and isinstance(rep.json, dict) else None)
                               for r, rep in zip(roles, replies, strict=True)}
        out["parent"] = self.parent_view()
        return out

    async def _status(self, _request: dict[str, Any]) -> dict[str, Any]:
        return {"view": await self.view()}

    async def _preview(self, request: dict[str, Any]) -> dict[str, Any]:
        """What a HUP with request["config_file"] would change (nothing is applied)."""
        from keepalived_py.core import configload
        from keepalived_py.observe.preview import reload_plans, vrrp_preview

        path = request.get("config_file")
        if not isinstance(path, str) or not path:
            return {"error": "preview: config_file missing"}
        from keepalived_py.core import reload as reloading
        from keepalived_py.core.forking import in_thread

        result = await in_thread(configload.load, self.sup.opts, path)
        verdict = reloading.judge(self.sup.config, result, self.sup.opts)  # what reload() decides
        if not verdict.ok:
            return {"error": "a HUP would keep the running configuration: "
                             + "; ".join(verdict.lines[:5] or [verdict.reason])}
        view = await self.view()
        states = {i["name"]: i["state"] for i in (view.get("vrrp") or {}).get("instances", [])}
        running = self.sup.config
        preview: dict[str, Any] = {"config_file": path, "running_config": self.sup.opts.conf_file}
        if configload.roles_to_run(running, self.sup.opts).count("vrrp") or \
                configload.roles_to_run(result.config, self.sup.opts).count("vrrp"):
            # the plans the vrrp child diffs: its trackers' disabled scripts left out
            preview["vrrp"] = vrrp_preview(reload_plans(running), reload_plans(result.config), states)
        if "check" in configload.roles_to_run(running, self.sup.opts):
            # the check child holds the checkers' states and the table: it computes its part
            from keepalived_py.observe.dumps import PREVIEW
            rep = await self.sup.ask("check", PREVIEW + path, PREVIEW_TIMEOUT)
            preview["ipvs"] = rep.json if rep is not None and isinstance(rep.json, dict) else \
                {"error": "the check child did not answer"}
        elif "check" in configload.roles_to_run(result.config, self.sup.opts):
            preview["ipvs"] = {"error": "no check child runs now: a HUP would start one with the new "
                                        "virtual servers"}
        return {"preview": preview}

    async def start(self) -> None:
        opts = self.sup.opts
        log = self.sup.log
        path = control_path(opts, self.sup.paths.parent)
        self.control = ControlServer(path, {"status": self._status, "preview": self._preview}, log)
        try:
            await self.control.start()
        except OSError as exc:
            log.info(f"Control socket {path} not available: {exc}")
            self.control = None
        listen = getattr(opts, "metrics_listen", None)
        if listen:
            from keepalived_py.observe.http import MetricsServer, parse_listen

            try:
                host, port = parse_listen(listen)
                self.metrics = MetricsServer(self.view, log)
                await self.metrics.start(host, port)
                log.info(f"Prometheus metrics on http://{listen}/metrics")
            except (OSError, ValueError) as exc:
                log.info(f"Metrics endpoint {listen} not started: {exc}")
                self.metrics = None

    async def close(self) -> None:
        for server in (self.metrics, self.control):
            if server is not None:
                await server.close()


def status_command(opts: Any, out: Any = None, err: Any = None) -> int:
    """`keepalived-py --status [--json]`: ask the running daemon, print its view."""
    import sys

    from keepalived_py.core import pidfile
    from keepalived_py.observe.status import status_table

    out = out or sys.stdout
    err = err or sys.stderr
    path = control_path(opts, pidfile.resolve(opts).parent)
    if os.geteuid() != 0:
        err.write("keepalived-py --status: permission denied: only root may read the daemon's "
                  f"state (control socket {path}, mode 0600)\n")
        return 1
    try:
        reply = query(path, {"cmd": "status"})
    except (FileNotFoundError, ConnectionRefusedError):
        err.write(f"keepalived-py --status: no keepalived-py daemon is running "
                  f"(nothing answers on {path}; use -p or --control-socket for another instance)\n")
        return 1
    except (OSError, ValueError) as exc:
        err.write(f"keepalived-py --status: {path}: {exc}\n")
        return 1
    if not reply.get("ok"):
        err.write(f"keepalived-py --status: {reply.get('error', 'refused')}\n")
        return 1
    view = reply.get("view") or {}
    if getattr(opts, "json_output", False):
        out.write(json.dumps(view, indent=2, sort_keys=True) + "\n")
    else:
        out.write(status_table(view, time.time()))
    return 0


def preview_command(opts: Any, test_status: int, out: Any = None, err: Any = None) -> int:
    """`keepalived-py -t -f NEW.conf --reload-preview`: after the config test, ask the
    running daemon what a HUP with NEW.conf would change, and print it."""
    import sys

    from keepalived_py.core import pidfile
    from keepalived_py.observe.preview import preview_text

    out = out or sys.stdout
    err = err or sys.stderr
    if test_status == 4:  # keepalived -t: cannot run at all
        return test_status
    path = control_path(opts, pidfile.resolve(opts).parent)
    if os.geteuid() != 0:
        err.write(f"keepalived-py --reload-preview: permission denied: only root may ask the daemon "
                  f"(control socket {path})\n")
        return 1
    try:
        reply = query(path, {"cmd": "preview", "config_file": os.path.abspath(opts.conf_file)}, timeout=60)
    except (FileNotFoundError, ConnectionRefusedError):
        err.write(f"keepalived-py --reload-preview: no keepalived-py daemon is running "
                  f"(nothing answers on {path})\n")
        return 1
    except (OSError, ValueError) as exc:
        err.write(f"keepalived-py --reload-preview: {path}: {exc}\n")
        return 1
    if not reply.get("ok") or "error" in reply:
        err.write(f"keepalived-py --reload-preview: {reply.get('error', 'refused')}\n")
        return 1
    preview = reply.get("preview") or {}
    if getattr(opts, "json_output", False):
        out.write(json.dumps(preview, indent=2) + "\n")
    else:
        out.write(preview_text(preview))
    return 0
