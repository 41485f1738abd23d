"""Every test session gets real PostgreSQL and NATS JetStream (see shared.testing.plugin)."""

pytest_plugins = ["shared.testing.plugin"]
