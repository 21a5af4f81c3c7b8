"""VRRP, sans-IO core first (packet, ah, checks, machine, timers, tracking, sync_group, stats,
snapshot, events, actions, params): nothing here touches a socket, the clock or the kernel.

How a runtime drives it:

    inst = VrrpInstance(params, tracked)          # or SyncGroup(name, [inst, ...], tracked)
    actions = inst.handle(Start(), clock.now())   # group: group.start(now)
    ... for every socket read, netlink or tracker report, or due timer:
    actions = inst.handle(event, clock.now())     # group: group.handle(member_name, event, now)

Events (events.py): Start, Stop, PacketReceived (VRRP bytes + RxMeta: src, dst, TTL/hop
limit), Ipv4DatagramReceived (raw IPv4 datagram; required for auth_type AH),
AdvertReceived (already decoded), TimerExpired(name), TrackingChanged, InterfaceUp/Down.
If the interface is down at start, deliver InterfaceDown before Start.

Actions (actions.py), executed in order: SendAdvert (payload per destination, or whole
IPv4 datagrams with AH), Add/RemoveAddresses, Add/RemoveRoutes, Add/RemoveRules,
SendGarp, SendNa, RunNotify, SetTimer(instance, timer, at | None = cancel), Log,
PacketDropped (counted under its checks.DropReason; log it, rate limited).
Keep one timer per (instance, timer name); re-arming replaces it. Route a packet to the
instance by (interface, VRID, family) with packet.peek_vrid(); unknown VRIDs are the
runtime's to count or log. `inst.snapshot()` is the instance as a frozen value for dumps
(times in it are the monotonic `now` given to the machine).
"""
