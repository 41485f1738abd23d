"""The gateway's HTTP API: its own routes, then the proxy for everything in the routing table."""
