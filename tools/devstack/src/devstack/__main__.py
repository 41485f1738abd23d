"""``python -m devstack run``: the same as ``postloan-stack run``."""

from devstack.cli import main

main()
