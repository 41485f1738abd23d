"""Every stack a devstack test runs as a process is ended when the test ends (see stack_runs)."""

from collections.abc import Iterator

import pytest
from stack_runs import Stacks


@pytest.fixture
def stacks() -> Iterator[Stacks]:
    tracked = Stacks()
    yield tracked
    tracked.end()
