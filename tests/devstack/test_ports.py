import json
import socket
from collections.abc import Iterable
from pathlib import Path

from devstack.embedded import port_is_free
from devstack.ports import PortBook


def make_book(path: Path, *, busy: Iterable[int] = (), spare: Iterable[int] = ()) -> PortBook:
    taken = set(busy)
    numbers = iter([*spare, *range(40000, 41000)])
    return PortBook(path, is_free=lambda p: p not in taken, any_free=lambda: next(numbers))


def test_a_first_run_takes_the_preferred_port(tmp_path: Path) -> None:
    ports = make_book(tmp_path / "ports.json")

    assert ports.claim("monitoring", 8001) == 8001


def test_a_restart_reuses_the_remembered_port(tmp_path: Path) -> None:
    first = make_book(tmp_path / "ports.json")
    first.claim("postgres")
    first.claim("monitoring", 8001)
    first.save()

    again = make_book(tmp_path / "ports.json")

    assert again.claim("postgres") == 40000
    assert again.claim("monitoring", 8001) == 8001


def test_a_remembered_port_taken_meanwhile_falls_back_to_the_preferred_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "ports.json").write_text(json.dumps({"scoring": 9002}))

    assert make_book(tmp_path / "ports.json", busy={9002}).claim("scoring", 8002) == 8002


def test_a_busy_preferred_port_gives_any_free_port(tmp_path: Path) -> None:
    assert make_book(tmp_path / "p.json", busy={8003}).claim("collections", 8003) == 40000


def test_nats_and_postgres_default_ports_are_never_chosen(tmp_path: Path) -> None:
    ports = make_book(tmp_path / "p.json", spare=[4222, 5432, 6222, 8222])

    assert ports.claim("nats", 4222) == 40000
    assert ports.claim("postgres", 5432) == 40001


def test_no_port_is_given_twice_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"monitoring": 8001, "scoring": 8001}))
    ports = make_book(tmp_path / "p.json")

    assert ports.claim("monitoring", 8001) == 8001
    assert ports.claim("scoring", 8001) == 40000


def test_a_port_a_server_picked_itself_is_what_is_remembered(tmp_path: Path) -> None:
    ports = make_book(tmp_path / "p.json")
    ports.claim("postgres")
    ports.record("postgres", 45678)
    ports.save()

    assert json.loads((tmp_path / "p.json").read_text()) == {"postgres": 45678}


def test_ports_of_components_not_run_this_time_are_kept(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"nats": 41000}))
    ports = make_book(tmp_path / "p.json")
    ports.claim("postgres")
    ports.save()

    assert json.loads((tmp_path / "p.json").read_text()) == {"nats": 41000, "postgres": 40000}


def test_a_damaged_ports_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("{not json")

    assert make_book(tmp_path / "p.json").claim("notify", 8004) == 8004


def test_a_port_with_a_listener_is_not_free() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)
