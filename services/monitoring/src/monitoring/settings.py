"""Monitoring's settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from pydantic import Field, field_validator

from monitoring.domain.buckets import DEFAULT_BUCKETS, BucketScale, parse_buckets
from shared.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    service_name: str = "monitoring"
    buckets: str = Field(
        default=DEFAULT_BUCKETS,
        description="Delinquency buckets as NAME:MAX_DPD pairs, the last open-ended "
        "(POSTLOAN_BUCKETS).",
    )
    eod_chunk_size: int = Field(
        default=50_000, ge=1, description="Loans per end-of-day transaction (progress unit)."
    )
    bureau_refresh_interval_s: float = Field(
        default=0,
        ge=0,
        description="Seconds between scheduled bureau refreshes; 0 switches them off "
        "(POSTLOAN_BUREAU_REFRESH_INTERVAL_S).",
    )
    bureau_refresh_batch: int = Field(
        default=1000, ge=1, le=100_000, description="Borrowers asked for per bureau refresh."
    )
    bureau_max_age_days: int = Field(
        default=30, ge=1, le=3650, description="Age of the last report that makes a new one due."
    )
    bureau_seed: int = Field(default=20260101, description="Seed of the simulated bureau.")

    @field_validator("buckets")
    @classmethod
    def _valid_buckets(cls, value: str) -> str:
        parse_buckets(value)
        return value

    @property
    def bucket_scale(self) -> BucketScale:
        return parse_buckets(self.buckets)
