"""The gateway's edges: its tables and repositories, password hashing, files, upstreams."""
