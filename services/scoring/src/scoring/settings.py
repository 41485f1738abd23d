"""Scoring's settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    service_name: str = "scoring"
    # Loans per transaction of the batch rescoring after each end of day.
    rescore_chunk_size: int = Field(default=5000, ge=100, le=100_000)
    rescore_poll_interval_s: float = Field(default=1.0, gt=0)
    # Population stability thresholds (PSI/CSI): above warn a drift event is raised with
    # status "warn", above act with status "act" (the usual 0.10 / 0.25 rule of thumb).
    drift_warn: float = Field(default=0.10, gt=0)
    drift_act: float = Field(default=0.25, gt=0)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ScoringSettings:
        if self.drift_warn >= self.drift_act:
            raise ValueError("POSTLOAN_DRIFT_WARN must be below POSTLOAN_DRIFT_ACT")
        return self
