"""Pure rules of the gateway: roles and scopes, the routing table, forwarding, the breaker."""
