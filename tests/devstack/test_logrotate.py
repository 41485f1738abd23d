"""Log files are rotated by size while a writer keeps them open, and a tail follows the cut."""

import asyncio
from pathlib import Path

import pytest

from devstack.config import ConfigError
from devstack.lines import LineLog, follow
from devstack.logrotate import LogRotation, rotate_if_big


def test_a_big_log_is_copied_to_dot_1_emptied_and_the_oldest_dropped(tmp_path: Path) -> None:
    log = tmp_path / "notify.log"
    rotation = LogRotation(max_bytes=10, keep=2)
    with log.open("ab", buffering=0) as writer:  # as the stack's writers hold it
        for n in range(3):
            writer.write(f"round {n} of lines\n".encode())
            assert rotate_if_big(log, rotation)
        writer.write(b"after\n")
        assert not rotate_if_big(log, rotation)

    assert log.read_text() == "after\n"  # the writer went on at the start, no hole
    assert (tmp_path / "notify.log.1").read_text() == "round 2 of lines\n"
    assert (tmp_path / "notify.log.2").read_text() == "round 1 of lines\n"
    assert not (tmp_path / "notify.log.3").exists()


def test_settings_come_from_the_environment() -> None:
    assert LogRotation.from_env({}) == LogRotation(max_bytes=50 * 1024 * 1024, keep=5)
    given = LogRotation.from_env({"POSTLOAN_LOG_MAX_MB": "2", "POSTLOAN_LOG_KEEP": "9"})
    assert given == LogRotation(max_bytes=2 * 1024 * 1024, keep=9)
    with pytest.raises(ConfigError, match="POSTLOAN_LOG_KEEP"):
        LogRotation.from_env({"POSTLOAN_LOG_KEEP": "-1"})


async def test_a_tail_follows_a_log_through_its_rotation(tmp_path: Path) -> None:
    log = tmp_path / "nats.log"
    seen: list[str] = []
    with log.open("ab", buffering=0) as writer:
        tail = asyncio.create_task(follow(log, LineLog(seen.append), offset=0))
        writer.write(b"before the rotation, a long line\n")
        await asyncio.sleep(0.5)
        rotate_if_big(log, LogRotation(max_bytes=1, keep=1))
        await asyncio.sleep(0.5)
        writer.write(b"after\n")
        await asyncio.sleep(0.5)
        tail.cancel()
        with pytest.raises(asyncio.CancelledError):
            await tail

    assert seen == ["before the rotation, a long line", "after"]
