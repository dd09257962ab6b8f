"""The staff alarm for features that act outside the enforcer (welcomes, gifts, checks)."""

from __future__ import annotations

from bot.core.runtime import Runtime
from bot.features.moderation import LiveEnforcer, RightsAlarm


def rights_alarm(runtime: Runtime) -> RightsAlarm:
    """The live enforcer's alarm, so a problem reaches the staff once an hour, whoever hits it."""
    enforcer = runtime.live_enforcer
    if not isinstance(enforcer, LiveEnforcer):
        raise RuntimeError("the live enforcer is created in post_init")
    return enforcer.alarm
