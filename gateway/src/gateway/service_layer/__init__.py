"""The gateway's use cases: tokens, logins, API keys, the admin account, forwarding, OpenAPI."""
