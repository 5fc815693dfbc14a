"""The CLI root turns every user error into exit code 2 and one line, never a traceback."""

import pytest

from accel.cli import main


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sim", "sat", "--bogus"], "No such option: --bogus"),
        (["sim", "sat", "--prune"], "'--prune' requires an argument"),
        (["workload", "extract", "--seq-len", "abc"], "--seq-len"),
        (["nope"], "No such command 'nope'"),
        (["sim", "sat", "--workload", "no-such-workload"], "unknown workload 'no-such-workload'"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # status lines ("building workload ...") may precede it; the error itself is one line
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and needle in errors[0], err


def test_no_arguments_prints_help(capsys):
    assert main([]) == 0
    assert "Usage" in capsys.readouterr().out
