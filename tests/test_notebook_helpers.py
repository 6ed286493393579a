"""rk.folded_output: a solution's printed numbers go into a folded <details>, not the cell's output."""

import pytest

import reachkit as rk


@pytest.fixture
def shown(monkeypatch):
    import IPython.display

    out = []
    monkeypatch.setattr(IPython.display, "display", out.append)
    return out


def test_printed_text_is_folded_and_escaped(shown, capsys):
    with rk.folded_output():
        print("x < 1 & y")
        print("second line")
    assert capsys.readouterr().out == ""  # nothing reaches the cell's own output
    (obj,) = shown
    assert obj.data == ("<details><summary>Show the solution&#x27;s output</summary>"
                        "<pre>x &lt; 1 &amp; y\nsecond line\n</pre></details>")


def test_nothing_printed_shows_nothing(shown):
    with rk.folded_output("numbers"):
        pass
    assert shown == []


def test_text_printed_before_an_error_is_still_shown(shown):
    with pytest.raises(AssertionError), rk.folded_output("numbers"):
        print("k = 3")
        raise AssertionError("claim failed")
    assert "<summary>numbers</summary><pre>k = 3\n</pre>" in shown[0].data


def test_summary_must_be_a_string():
    with pytest.raises(TypeError, match="summary must be a string"), rk.folded_output(3):
        pass
