"""Notify: renders and delivers SMS, e-mail, push, voice and letters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from notify.domain.lint import Lexicon
from notify.entrypoints.api.messages import router as messages
from notify.entrypoints.api.receipts import router as receipts
from notify.entrypoints.api.recipients import router as recipients
from notify.entrypoints.api.sink import router as sink
from notify.entrypoints.api.suppressions import router as suppressions
from notify.entrypoints.api.templates import router as templates
from notify.entrypoints.consumers import subscriptions
from notify.service_layer.lexicon import load_lexicon, use_lexicon
from notify.settings import NotifySettings
from notify.workers import workers
from shared.app import ServiceDefinition, create_service_app
from shared.clock import Clock, system_clock


def create_app(settings: NotifySettings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """``clock`` is the wall clock sends are timed by (tests fix it)."""
    settings = settings or NotifySettings()
    # Read before anything connects: a wrong POSTLOAN_LINT_WORDS_FILE stops the start here.
    lexicon = load_lexicon(settings.lint_words_file)
    definition = ServiceDefinition(
        name="notify",
        title="PostLoan notify",
        description="Templates, channels, deliveries and suppressions.",
        routers=[recipients, templates, messages, suppressions, sink],
        # Providers' delivery receipts carry no principal of ours: their credential is the
        # X-PostLoan-Signature HMAC of the raw body under the channel's webhook secret
        # (POSTLOAN_SMS_WEBHOOK_SECRET, ...), which the route checks itself (401 when missing
        # or wrong). The gateway forwards them as a "signed" row without a token.
        self_authenticating_routers=[receipts],
        subscriptions=subscriptions(clock),
        workers=workers(settings, clock),
        migrations=Path(__file__).parent / "migrations",
        on_startup=[_lint_with(lexicon)],
    )
    app = create_service_app(definition, settings)
    app.state.clock = clock
    return app


def _lint_with(lexicon: Lexicon) -> Callable[[FastAPI], None]:
    """Start-up: every upload and render of this process is linted with ``lexicon``."""

    def use(app: FastAPI) -> None:
        del app
        use_lexicon(lexicon)

    return use
