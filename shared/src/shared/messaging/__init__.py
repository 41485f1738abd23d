"""Reliable messaging: the JetStream bus, the transactional outbox and the idempotent inbox."""
