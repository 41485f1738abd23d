"""What notify's routes are given besides a session: the injected wall clock, the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notify.settings import NotifySettings
from shared.clock import Clock


def clock(request: Request) -> Clock:
    found: Clock = request.app.state.clock
    return found


ClockDep = Annotated[Clock, Depends(clock)]


def settings(request: Request) -> NotifySettings:
    found: NotifySettings = request.app.state.settings
    return found


SettingsDep = Annotated[NotifySettings, Depends(settings)]
