"""The security headers of every answer, and the Content-Security-Policy of each kind.

The policies are here, one constant each, so that a page the gateway serves (Swagger UI from
its own static files, the console) is allowed by changing one line. Nothing served may load
anything from elsewhere, so no policy names another origin.
"""

from __future__ import annotations

#: API answers are data, never a page: nothing may run, load or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

#: HTML pages (``/docs``, ``/redoc``, the console): scripts, styles, fonts and calls from the
#: gateway itself only; images also inline (``data:``, Swagger UI's icons); no inline script.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

_ALWAYS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
)

NAMES = frozenset(
    {"strict-transport-security", "content-security-policy"} | {n for n, _ in _ALWAYS}
)


def security_headers(content_type: str, *, hsts_max_age_s: int) -> list[tuple[str, str]]:
    """The headers an answer of ``content_type`` carries (names in lower case)."""
    page = content_type.split(";", 1)[0].strip().lower() == "text/html"
    headers = [*_ALWAYS, ("content-security-policy", PAGE_CSP if page else API_CSP)]
    if hsts_max_age_s:
        headers.append(
            ("strict-transport-security", f"max-age={hsts_max_age_s}; includeSubDomains")
        )
    return headers
