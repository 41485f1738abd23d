"""POSTLOAN_SMTP_URL: each scheme's security and default port, credentials, and refusals."""

from __future__ import annotations

import pytest

from notify.domain.smtp_url import SmtpTarget, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.local", SmtpTarget("mail.local", 25, start_tls=False, use_tls=False)),
        ("smtp://mail.local:2525", SmtpTarget("mail.local", 2525, False, False)),
        ("smtp+starttls://mail.local", SmtpTarget("mail.local", 587, True, False)),
        ("smtps://mail.local", SmtpTarget("mail.local", 465, False, True)),
        (
            "smtps://postloan:p%40ss%3Aword@mail.local:1465/",
            SmtpTarget("mail.local", 1465, False, True, "postloan", "p@ss:word"),
        ),
        ("smtp://user@mail.local", SmtpTarget("mail.local", 25, False, False, "user", None)),
    ],
)
def test_each_scheme_and_its_credentials_are_read(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://mail.local", "scheme"),
        ("smtp://", "no host"),
        ("smtp://mail.local/inbox", "no path"),
        ("smtp://mail.local?tls=1", "no path"),
        ("smtp://mail.local:99999", "out of range"),
    ],
)
def test_a_wrong_url_is_refused_saying_why(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_smtp_url(url)


def test_the_password_is_not_shown_in_the_targets_repr() -> None:
    assert "secret" not in repr(parse_smtp_url("smtp://u:secret@mail.local"))
