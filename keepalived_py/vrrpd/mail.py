"""`smtp_alert` for VRRP state changes: which notifies become mail, as keepalived decides.

Why a module of its own: the decision (vrrp_notify.c vrrp_smtp_notifier() and
vrrp_sync_smtp_notifier()) is keepalived's and has three rules the runtime must not
scatter: an instance or sync group mails when its `smtp_alert` says so, else global
`smtp_alert_vrrp`, else global `smtp_alert` (vrrp.c vrrp_complete_instance() and the sync
group completion); `no_email_faults` silences FAULT; and a state already mailed
(`last_email_state`) is not mailed again. The text and the SMTP dialogue are
track/smtp_alert.py's; sending is in the background (SmtpAlerter), never on the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from keepalived_py.track.events import RunNotify
from keepalived_py.track.smtp_alert import (
    MailSettings,
    SmtpAlerter,
    vrrp_group_alert,
    vrrp_instance_alert,
)

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

#: the states keepalived mails about (events such as PRIORITY never are)
MAILED_STATES = frozenset({"MASTER", "BACKUP", "FAULT", "STOP", "DELETED"})


class VrrpMail:
    """Turns the runtime's RunNotify actions into mails. `make_alerter` builds the sender
    for the settings (tests inject one); `settings_of` reads global_defs (tests fix the
    host name)."""

    def __init__(self, log: Callable[[str], None], *,
                 make_alerter: Callable[[MailSettings], Any] | None = None,
                 settings_of: Callable[[Any], MailSettings | None] = MailSettings.from_global,
                 detail_log: Callable[[str], None] | None = None) -> None:
        self._log = log
        self._detail = detail_log
        self._make = make_alerter or (lambda s: SmtpAlerter(s, self._log, self._detail))
        self._settings_of = settings_of
        self.settings: MailSettings | None = None
        self.alerter: Any = None
        self.enabled: dict[tuple[str, str], bool] = {}  # (INSTANCE|GROUP, name) -> smtp_alert
        self.no_email_faults = False
        self.last_state: dict[tuple[str, str], str] = {}
        self.shutting_down = False

    def configure(self, config: KeepalivedConfig) -> None:
        """Read (or at a reload re-read) the configuration; mailed states carry over by name."""
        g = config.global_defs
        if g is None:
            from keepalived_py.config.model.global_defs import GlobalDefs
            g = GlobalDefs()
        self.no_email_faults = bool(g.no_email_faults)
        defaults = (g.smtp_alert_vrrp, g.smtp_alert)
        enabled: dict[tuple[str, str], bool] = {}
        for inst in config.vrrp_instance:
            enabled[("INSTANCE", inst.name)] = inst.effective_smtp_alert(*defaults)
        for group in config.vrrp_sync_group:
            value = next((v for v in (group.smtp_alert, *defaults) if v is not None), False)
            enabled[("GROUP", group.name)] = bool(value)
        self.enabled = enabled
        self.last_state = {k: v for k, v in self.last_state.items() if k in enabled}
        settings = self._settings_of(g) if any(enabled.values()) else None
        if settings != self.settings:
            self.settings = settings
            self.alerter = self._make(settings) if settings is not None else None

    def notify(self, act: RunNotify) -> None:
        """One notify the runtime executes; mails when keepalived would."""
        key = (act.kind, act.name)
        if act.state not in MAILED_STATES or not self.enabled.get(key):
            return
        if self.no_email_faults and act.state == "FAULT":
            return
        if self.last_state.get(key) == act.state:
            return
        self.last_state[key] = act.state
        if self.alerter is None or self.settings is None:
            return  # keepalived's smtp_alert() without a server or recipients: nothing
        if self.shutting_down:
            return  # see shutdown()
        rid = self.settings.router_id
        alert = (vrrp_instance_alert(rid, act.name, act.state) if act.kind == "INSTANCE"
                 else vrrp_group_alert(rid, act.name, act.state))
        self.alerter.send(alert)

    def shutdown(self) -> None:
        """The daemon is stopping: keepalived 2.2.7 queues the "Stopping" mails of
        notify_shutdown but exits before any is delivered (seen against an SMTP server in
        tests/integration/test_vrrp_smtp_alert_lab.py), so none goes out here either."""
        self.shutting_down = True

    async def close(self, timeout: float = 5.0) -> None:
        """After the stop: give mails still under way `timeout` seconds, then cancel."""
        if self.alerter is None:
            return
        await self.alerter.drain(timeout)
        await self.alerter.close()
