"""Issue 13: one number reader with keepalived's semantics, checked against `keepalived -t`.

Each configuration below puts awkward numbers (hex and octal where keepalived reads decimal,
blanks, signs, overflow, trailing garbage, too many decimal places, out-of-range timers)
into every area that reads numbers. Real keepalived 2.2.7 and keepalived-py's loader must
report the same error lines, on the same lines of the file, and exit alike. Only
`interface_up_down_delays` names an interface: `lo`, which every host has.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from keepalived_py.config.loader import load_config
from tests.envcheck import keepalived_binary, need_root

pytestmark = [pytest.mark.root, pytest.mark.keepalived]

_LINE = re.compile(r"^\((?:[^)]*: )?Line (\d+)\) (.*)$")

GLOBAL_DEFS = """global_defs {
  vrrp_garp_master_repeat 0x10
  vrrp_garp_interval 0.0000015
  vrrp_startup_delay 1.5x
  vrrp_garp_master_delay " 7"
  smtp_server 192.0.2.1 99999
  lvs_timeouts tcp 0x5 udp -1
  vrrp_rt_priority 5x
  vrrp_rlimit_rttime " 1"
  max_auto_priority 100
  vrrp_rx_bufs_policy 12x
  vrrp_rx_bufs_multiplier 1 2
  vrrp_priority -21
  lvs_sync_daemon eth0 inst V id 300 maxlen 0x10
  vrrp_garp_extra_if 0
  vrrp_min_garp True
  vrrp_down_timer_adverts 101
  nftables_priority 2147483648
  random_seed 99999999999999999999
  smtp_connect_timeout 0
}
"""

TRACKING = """vrrp_script s1 {
  script /bin/true
  interval 0
  timeout -1
  rise 1x
  fall 0
  weight 300
}
vrrp_track_process p1 {
  process sshd
  quorum 0
  delay 1.0000005
  fork_delay x
  weight -255
}
garp_group {
  garp_interval -1
  gna_interval x
  interface lo
}
"""

BFD = """bfd_instance B1 {
  neighbor_ip 192.0.2.9
  min_rx 0
  min_tx 1.0005
  idle_tx 1.5x
  multiplier 0x3
  max_hops -2
  ttl " 9"
}
"""

LVS = """virtual_server 192.0.2.1 80 {
  delay_loop 10s
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum 0x5
  hysteresis -1
  connect_timeout 1.00000051
  real_server 192.0.2.2 80 {
    weight " 5"
    retry +3
    delay_before_retry 1.5.5
    TCP_CHECK {
      connect_timeout 0
      connect_port 99999
      retry 1e3
      delay_loop 0.0000001
      warmup x
    }
  }
}
"""

GROUPS = """virtual_server_group G1 {
  192.0.2.1-x 80
  192.0.2.1-300 80
  192.0.2.0/+24 80
  192.0.2.0/24x 80
  2001:db8::1-1g 80
  192.0.2.1-+5 80
}
virtual_server group G1 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.0.2.2 80 {
    HTTP_GET {
      url {
        path /
        status_code 200 +201 300-x 4294967496 -1
      }
    }
  }
}
"""

DELAYS = """interface_up_down_delays {
  lo 0.0000001
  lo 256
  lo 1.5x 3
}
child_wait_time -1
"""


def _keepalived(path: str) -> tuple[int, set[tuple[int, str]]]:
    run = subprocess.run([keepalived_binary(), "-t", "-l", "-D", "-f", path], capture_output=True, text=True,
                         timeout=60)
    lines = set()
    for text in (run.stderr + run.stdout).splitlines():
        m = _LINE.match(text)
        if m:
            lines.add((int(m.group(1)), m.group(2)))
    return run.returncode, lines


def _ours(path: str) -> tuple[int, set[tuple[int, str]]]:
    result = load_config(path, check_interfaces=False)
    return result.exit_status, {(d.pos.line, d.message) for d in result.errors() if d.pos is not None}


@pytest.mark.parametrize("text", [GLOBAL_DEFS, TRACKING, BFD, LVS, GROUPS, DELAYS],
                         ids=["global_defs", "tracking", "bfd", "lvs", "groups", "delays"])
def test_numbers_read_as_keepalived_reads_them(tmp_path, text):
    need_root()
    path = tmp_path / "keepalived.conf"
    path.write_text(text)
    status, theirs = _keepalived(str(path))
    our_status, ours = _ours(str(path))
    assert theirs, "keepalived reported nothing: the configuration no longer tests anything"
    assert ours == theirs
    assert our_status == status
