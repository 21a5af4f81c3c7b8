"""The check child's health checking: which real server is up, with which weight.

Layers (pure ones marked; a test asserts they import nothing that does I/O):
- result.py (pure): `Result`, what one probe reports (ok / failed / timeout, reason, latency).
- hysteresis.py (pure): one checker's rise/fall - retry, delay_before_retry, alpha, warmup,
  delay_loop, HTTP urls in turn, MISC_CHECK misc_dynamic weights, FILE_CHECK values - as
  keepalived 2.2.7's check_*.c do it, with keepalived's log lines.
- quorum.py (pure): `Pool`, every virtual server's real servers, quorum with hysteresis,
  sorry server, inhibit_on_failure, weights, notify/quorum scripts, omega at stop
  (keepalived's ipwrapper.c).
- spec.py (pure): the typed configuration -> `VsConfig`s for the pool and `CheckerSpec`s
  (policy + endpoint + config model) with keepalived's inheritance of settings.
- reload.py (pure): what a SIGHUP carries over (checker states, servers, quorum), as
  keepalived's clear_diff_services / migrate_checkers.
- kinds/ (I/O): one module per checker kind, all `async probe(target, params) -> Result`.
- scheduler.py (I/O glue): cadence, timeouts, bounded probes in flight, results into the
  pure state, decisions out.

The interface for the IPVS plan (keepalived_py/lvs/):

    servers, specs = spec.build(config)
    pool = quorum.Pool(servers)
    sched = scheduler.Scheduler(specs, pool, clock=..., emit=on_decisions)
    sched.suspend(vs_key, True)    # ha_suspend VS whose address is absent, before start()
    sched.start(); await sched.run()
    sched.reload(new_specs, new_servers)   # SIGHUP; sched.file_value(path, n) for FILE_CHECK

- `pool.destinations(vs_key) -> {rs_key: weight}` is the desired destination set of one
  virtual server at any moment; `pool.table()` all of them. A real server is listed with
  its IPVS weight when it is in the pool, with weight 0 when inhibit_on_failure keeps it
  while failed (or the sorry_server_inhibit sorry server is idle), and absent otherwise.
  The sorry server appears under its own key while it serves.
- `vs_key` is `VirtualServer.key` of the config model (("ip", address, port, protocol) |
  ("fwmark", mark, family) | ("group", name, protocol)); `rs_key` is (address text, port)
  with keepalived's port rules applied (spec.rs_port(): a NAT real server without a port
  takes the virtual server's; DR/TUN take the service's port; fwmark DR/TUN have 0).
- Decisions emitted (quorum.Decision): `DestChanged(vs, rs, weight | None)` each time a
  destination's desired weight changes or it comes or goes - apply them, or re-read
  `destinations()`; `Log` lines in keepalived's words; `NotifyRs` / `NotifyVs` (run
  notify_up/down or quorum_up/down, and write `fifo_line` to the notify FIFOs);
  `SmtpAlert`; `QuorumChanged`.
"""
