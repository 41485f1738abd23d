"""Run a command that dies with the stack: ``python -m devstack.tether <parent-pid> <command>``.

The runner starts every app through this shim. It asks Linux to send the command SIGTERM when
its parent dies, even by SIGKILL, then replaces itself with the command (the setting survives
``exec``). Doing it here rather than in a ``preexec_fn`` keeps the runner's ``fork`` free of
Python code, which is unsafe once threads exist.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import NoReturn

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    return True


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or not args[0].isdigit():
        sys.exit("usage: python -m devstack.tether <parent-pid> <command> [args...]")
    parent, command = int(args[0]), args[1:]
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
