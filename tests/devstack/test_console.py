import io

from devstack.console import Console, Link, wants_colour


def test_log_lines_are_shown_only_once_the_stack_is_live() -> None:
    out = io.StringIO()
    console = Console(out)

    console.log("scoring", "starting up")
    console.live = True
    console.log("scoring", "ready")

    assert out.getvalue() == "scoring     | ready\n"


def test_a_failure_names_the_component_and_shows_its_last_lines() -> None:
    out = io.StringIO()

    Console(out).failure("notify", "exited with code 3", ["ImportError: no module x"])

    text = out.getvalue()
    assert "✖ notify: exited with code 3" in text
    assert "notify      | ImportError: no module x" in text


def test_the_banner_lines_up_its_links() -> None:
    out = io.StringIO()

    Console(out).banner("PostLoan is running", [Link("gateway", "http://g"), Link("API docs", "d")])

    assert "  gateway   http://g\n  API docs  d\n" in out.getvalue()


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_colour(Tty(), {})
    assert not wants_colour(Tty(), {"NO_COLOR": "1"})
    assert not wants_colour(io.StringIO(), {})
    assert wants_colour(io.StringIO(), {"FORCE_COLOR": "1"})


def test_coloured_output_wraps_the_prefix_in_escape_codes() -> None:
    out = io.StringIO()
    console = Console(out, colour=True)
    console.live = True

    console.log("gateway", "hello")

    assert out.getvalue().startswith("\x1b[")
    assert out.getvalue().endswith("\x1b[0m hello\n")


def test_a_status_line_stays_below_the_log_lines_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(out, interactive=True)
    console.live = True

    console.status("demo", "day 1/9")
    console.log("gateway", "hello")
    console.status("demo", "day 2/9")
    console.clear_status()
    console.log("gateway", "bye")

    assert out.getvalue() == (
        "\r\x1b[2Kdemo        | day 1/9"
        "\r\x1b[2Kgateway     | hello\ndemo        | day 1/9"
        "\r\x1b[2Kdemo        | day 2/9"
        "\r\x1b[2K"
        "gateway     | bye\n"
    )


def test_without_a_terminal_there_is_no_status_line() -> None:
    out = io.StringIO()
    console = Console(out)

    console.status("demo", "day 1/9")
    console.clear_status()

    assert out.getvalue() == ""
