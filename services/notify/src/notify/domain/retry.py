"""When a provider call is tried again: transient failures only, with exponential back-off and
jitter, a bounded number of times (BRIEF section 5, the generic HTTP provider)."""

from __future__ import annotations

from dataclasses import dataclass


def is_transient_status(status: int) -> bool:
    """408 (time-out), 429 (too many requests) and every 5xx may succeed later; other 4xx
    say the request itself is wrong and would fail the same way again."""
    return status in (408, 429) or 500 <= status <= 599


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_tries`` calls; before call n + 1 wait ``base_s * 2**(n - 1)`` seconds
    (at most ``max_s``), of which a random half is jitter so that many messages failing
    together do not come back together."""

    max_tries: int = 5
    base_s: float = 0.5
    max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_tries < 1 or self.base_s < 0 or self.max_s < self.base_s:
            raise ValueError("a retry policy needs max_tries >= 1 and 0 <= base_s <= max_s")

    def delay(self, tries: int, jitter: float, retry_after: float | None = None) -> float:
        """Seconds to wait after ``tries`` failed calls; ``jitter`` in [0, 1). A provider's
        ``Retry-After`` is honoured up to ``max_s`` (a longer one still waits only that)."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** (tries - 1))
        wait = ceiling / 2 + ceiling / 2 * jitter
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_s))
        return wait
