"""A notice the guard refused: a 409 problem naming the rule, returned (not raised) so that the
refused decision stays in the decisions log with the request's transaction."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from collections_service.service_layer.contacts import Recorded
from shared.problems import problem_response


def refusal(recorded: Recorded) -> JSONResponse:
    decision = recorded.decision
    rule = decision.rule.value if decision.rule else "refused"
    return problem_response(
        409, "Notice refused", f"{rule}: {decision.reason}", rule=rule,
        decision_id=str(recorded.decision_id),
    )  # fmt: skip
