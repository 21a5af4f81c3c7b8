"""The steady advert path sends bytes built once (issue 16): the machine hands back the same
SendAdvert while nothing changes (tests/unit/vrrp/test_machine_advert_cache.py covers when
it changes), the runtime keeps what it prepared for it, and a re-created interface's new
socket gets its own. Counters stay exact though they are folded
lazily (machine._count)."""

from __future__ import annotations

from keepalived_py.net.ports import LinkEvent
from keepalived_py.vrrp.machine import State
from tests.unit.vrrpd.test_runtime import Rig, conf, run


def test_same_bytes_prepared_once_and_again_for_a_new_socket():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        run_ = rt.by_name["VI_1"]
        assert run_.machine.state == State.MASTER
        await r.advance(1.0)
        first = run_.wire
        await r.advance(1.0)
        await r.advance(1.0)
        assert run_.wire is first  # nothing built for the last two adverts
        sent = r.sock().sent
        assert len({d for d, _a, _anc in sent[-3:]}) == 1
        assert sent[-1][1] == ("224.0.0.18", 0)
        # a new socket (the interface re-created, new index): prepared for it, sent on it
        rt.on_link_event(LinkEvent("eth0", 7, True))
        new_sock = r.sock()
        assert new_sock.ifindex == 7 and new_sock.sent == []
        await r.advance(1.0)
        assert run_.wire is not first and run_.wire[1] is new_sock
        assert [d for d, _a, _anc in new_sock.sent] == [sent[-1][0]]
        await rt.stop()
    run(go())


def test_counters_exact_with_lazy_folding():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        m = rt.by_name["VI_1"].machine
        for _ in range(5):
            await r.advance(1.0)
        snap = m.snapshot().stats
        assert snap.advert_sent == 6 and snap.become_master == 1
        await r.advance(1.0)
        assert snap.advert_sent == 6  # a snapshot keeps the counters as they were
        assert m.stats.advert_sent == 7
        m.clear_stats()
        await r.advance(1.0)
        assert m.stats.advert_sent == 1
        await rt.stop()
    run(go())
