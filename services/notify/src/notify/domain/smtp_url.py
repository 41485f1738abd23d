"""``POSTLOAN_SMTP_URL``: where e-mail goes and how (BRIEF section 5).

``smtp://user:pass@host:port`` (plain, port 25), ``smtp+starttls://…`` (upgraded with
STARTTLS, port 587) and ``smtps://…`` (TLS from the first byte, port 465); the user and
password are optional and percent-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

_SCHEMES = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    start_tls: bool
    use_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpTarget:
    """The server an SMTP URL names; ``ValueError`` saying what is wrong otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"the scheme must be one of {', '.join(_SCHEMES)}, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("the URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("an SMTP URL has no path, query or fragment")
    default_port, start_tls, use_tls = _SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:  # urllib's own message names the bad port
        raise ValueError(str(exc)) from None
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        start_tls=start_tls,
        use_tls=use_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
