import asyncio
from pathlib import Path

from devstack.lines import LineLog, follow, size_of


def make_log(keep: int = 40) -> tuple[LineLog, list[str]]:
    seen: list[str] = []
    return LineLog(seen.append, keep=keep), seen


def test_chunks_are_split_into_lines_across_chunk_boundaries() -> None:
    log, seen = make_log()

    log.feed(b"INFO: start")
    log.feed(b"ed\nINFO: rea")
    log.feed(b"dy\r\n")

    assert seen == ["INFO: started", "INFO: ready"]


def test_a_last_line_without_newline_is_emitted_on_flush() -> None:
    log, seen = make_log()
    log.feed(b"Traceback (most recent call last)")

    log.flush()

    assert seen == ["Traceback (most recent call last)"]


def test_only_the_most_recent_lines_are_kept_for_a_failure_report() -> None:
    log, _ = make_log(keep=3)

    log.feed(b"".join(f"line {i}\n".encode() for i in range(10)))

    assert list(log.recent) == ["line 7", "line 8", "line 9"]


def test_undecodable_bytes_do_not_stop_the_log() -> None:
    log, seen = make_log()

    log.feed("借款人 ok\n".encode() + b"\xff\xfe broken\n")

    assert seen[0] == "借款人 ok"
    assert seen[1].endswith(" broken")


def test_an_endless_line_is_cut_rather_than_held_in_memory() -> None:
    log, seen = make_log()

    log.feed(b"x" * 100_000)

    assert len(seen) == 1


async def test_follow_reads_what_is_appended_after_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    path.write_bytes(b"from an earlier run\n")
    log, seen = make_log()
    tail = asyncio.create_task(follow(path, log, offset=size_of(path)))

    with path.open("ab") as f:
        f.write(b"LOG:  database system is ready\nLOG:  partial")
    await asyncio.sleep(0.5)
    tail.cancel()
    await asyncio.gather(tail, return_exceptions=True)

    assert seen == ["LOG:  database system is ready", "LOG:  partial"]


def test_a_missing_file_has_size_zero(tmp_path: Path) -> None:
    assert size_of(tmp_path / "nothing.log") == 0
