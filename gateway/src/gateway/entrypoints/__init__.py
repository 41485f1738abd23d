"""Thin translations of HTTP into use cases."""
