"""Every test session gets real PostgreSQL and NATS JetStream (see postloan_testing.plugin)."""

pytest_plugins = ["postloan_testing.plugin"]
