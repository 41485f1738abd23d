"""Which calls the audit log records, and how a call's path is described in it.

Recorded: every mutating call under ``/api/v1/`` (refused ones too: a 401 or 403 on a write
is what a review looks for), and the reads that show personal data or another user's work —
borrowers, cases, messages, disputes, legal files, contact decisions, accounts, the audit log
itself, every routing row marked ``personal`` (a test holds this list to the routing table) —
and the work queue of someone else. Other reads (loans, scores, portfolio, products ...) are
not recorded: they would drown the entries that matter.
"""

from __future__ import annotations

from collections.abc import Mapping

API_ROOT = "/api/v1/"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Reads recorded whoever makes them: a path equal to one of these or below it.
RECORDED_READS: tuple[str, ...] = (
    "/api/v1/borrowers",
    "/api/v1/cases",
    "/api/v1/offers",
    "/api/v1/contact-decisions",
    "/api/v1/disputes",
    "/api/v1/legal-files",
    "/api/v1/messages",
    "/api/v1/suppressions",
    "/api/v1/notify/sink",
    "/api/v1/notify/recipients",
    "/api/v1/notify/loans",
    "/api/v1/collections/loans",
    "/api/v1/users",
    "/api/v1/api-keys",
    "/api/v1/audit",
)
WORK_QUEUE = "/api/v1/work-queue"

#: Resources grouped under a namespace (``/api/v1/scoring/models/{id}``): the id comes later.
NAMESPACES = frozenset({"scoring", "collections", "notify", "portfolio", "auth"})


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def is_recorded(method: str, path: str, query: Mapping[str, str], subject: str | None) -> bool:
    """Whether the audit log records this call (``query``: its parameters, first values)."""
    if not path.startswith(API_ROOT):
        return False
    if method in MUTATING:
        return True
    if any(_under(path, prefix) for prefix in RECORDED_READS):
        return True
    if _under(path, WORK_QUEUE):
        assignee = query.get("assignee")
        return assignee is not None and assignee != subject
    return False


def describe_path(path: str) -> tuple[str, tuple[str, ...]]:
    """The template and resource ids of a path the gateway forwards.

    The API names resources and ids in turn (``/api/v1/strategies/{id}/versions/{id}/activate``),
    after a namespace where there is one (``/api/v1/scoring/models/{id}/promote``).
    """
    segments = path.strip("/").split("/")
    fixed = 4 if len(segments) > 2 and segments[2] in NAMESPACES else 3
    template, ids = segments[:fixed], []
    for n, segment in enumerate(segments[fixed:]):
        if n % 2 == 0:
            template.append("{id}")
            ids.append(segment)
        else:
            template.append(segment)
    return "/" + "/".join(template), tuple(ids)
