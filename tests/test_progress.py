"""Progress bars: drawn by tqdm on a terminal only; redirected output stays clean."""
import io

from reludyn.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_no_output_and_no_carriage_return_off_a_terminal():
    s = io.StringIO()
    with Progress(5, "work", stream=s) as bar:
        for _ in range(5):
            bar.update()
    assert bar.done == 5 and s.getvalue() == ""


def test_bar_on_a_terminal_shows_label_and_count():
    s = _Terminal()
    with Progress(3, "solve", stream=s) as bar:
        bar.update(2)
        bar.update(1)
    out = s.getvalue()
    assert "solve" in out and "3/3" in out


def test_disabled_draws_nothing_even_on_a_terminal():
    s = _Terminal()
    with Progress(3, "x", enabled=False, stream=s) as bar:
        bar.update(3)
    assert s.getvalue() == "" and bar.done == 3


def test_stream_without_isatty_counts_quietly():
    class Sink:
        def write(self, text):
            raise AssertionError("nothing may be written")

        def flush(self):
            pass

    with Progress(2, "y", stream=Sink()) as bar:
        bar.update(2)
    assert bar.done == 2
