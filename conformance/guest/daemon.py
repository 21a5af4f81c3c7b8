"""Shell for running one implementation as a daemon inside the guest, and reading it back.

    script = daemon_script(impl, "k0", "k0.conf",
                           ready='[ "$(ipvsadm -Ln | grep -c Masq)" -ge 2 ]',
                           probes={"table": "ipvsadm -Ln"},
                           after_stop={"after-stop": "ipvsadm -Ln"})
    res = run_in_guest([setup, script], files={"k0.conf": CONF}, keep_going=True)
    s = sections(res.steps[1].output)   # {"table": "...", "exit": "0", "after-stop": "...", "log": ...}

The daemon runs in the foreground mode (-n) as a child of the step's shell, with its own
pid files and TMPDIR under /tmp/<tag>; it is stopped gracefully (SIGTERM, wait, SIGKILL
after a timeout) and its exit status is reported in section "exit".  Each probe's output
is a section, delimited by "=== <name>" lines.  If the daemon dies before it is stopped,
section "exited-early" holds its log.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ..lab.impl import Implementation, PidFiles
from .runner import GUEST_SCRATCH


def daemon_script(impl: Implementation, tag: str, config_name: str, *, ready: str = "true",
                  ready_timeout_s: int = 60, settle_s: float = 1.0,
                  probes: dict[str, str] | None = None,
                  after_stop: dict[str, str] | None = None,
                  stop_timeout_s: int = 30) -> str:
    d = f"/tmp/{tag}"
    pids = PidFiles.in_dir(Path(d))
    cmd = " ".join(shlex.quote(a) for a in impl.command(f"{GUEST_SCRATCH}/{config_name}", pids))
    log = f"{GUEST_SCRATCH}/{tag}.log"
    lines = [
        f"mkdir -p {d}/tmp",
        f"TMPDIR={d}/tmp {cmd} > {log} 2>&1 < /dev/null &",
        "KPID=$!",
        f"# wait up to {ready_timeout_s} s for: {ready}  (Python under TCG starts slowly)",
        f"_end=$(( $(date +%s) + {ready_timeout_s} ))",
        f"while [ $(date +%s) -lt $_end ] && ! ( {ready} ) >/dev/null 2>&1; do "
        "[ -e /proc/$KPID ] || break; sleep 0.2; done",
        f"echo \"=== ready $( ( {ready} ) >/dev/null 2>&1 && echo yes || echo no)\"",
        f"sleep {settle_s}",
    ]
    for name, sh in (probes or {}).items():
        lines.append(f'echo "=== {name}"; ( {sh} ) 2>&1')
    lines += [
        f'[ -e /proc/$KPID ] || {{ echo "=== exited-early"; cat {log}; exit 1; }}',
        impl.stop_shell("$KPID", stop_timeout_s),
        'echo "=== exit $_rc"',
    ]
    for name, sh in (after_stop or {}).items():
        lines.append(f'echo "=== {name}"; ( {sh} ) 2>&1')
    lines += [f'echo "=== log"; cat {log}', 'echo "=== end"']
    return "\n".join(lines) + "\n"


def sections(output: str) -> dict[str, str]:
    """Split a daemon_script's output at its "=== name [value]" lines.  A header's value
    (ready, exit) becomes the section's text when the section has no body."""
    out: dict[str, list[str]] = {}
    cur = None
    for line in output.splitlines():
        m = re.match(r"^=== (\S+) ?(.*)$", line)
        if m:
            cur = m.group(1)
            out[cur] = [m.group(2)] if m.group(2) else []
        elif cur is not None:
            out[cur].append(line)
    return {k: "\n".join(v) for k, v in out.items()}
