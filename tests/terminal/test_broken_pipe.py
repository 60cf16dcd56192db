"""Output piped into a reader that stops reading (`| head`): the command ends quietly with 141 (128 + SIGPIPE, as
`cat` or `grep` would), no traceback, and a quiz keeps what was answered."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.terminal.helpers import answers_in, spawn

BROKEN_PIPE = 141


def into_closed_pipe(env: dict[str, str], stdin: bytes, *args: str) -> tuple[int, str]:
    """Run `python -m bot ARGS` writing into a pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        process = spawn(env, *args, stdin=subprocess.PIPE, stdout=writer)
    finally:
        os.close(writer)
    _, err = process.communicate(stdin, timeout=60)
    return process.returncode, err.decode()


@pytest.mark.parametrize(
    "args",
    [
        ("play", "--count", "2"),
        ("play", "--review"),
        ("check", "--paragraphs"),
        ("--help",),
        ("play", "--help"),
    ],
)
def test_a_closed_pipe_ends_quietly(env: dict[str, str], args: tuple[str, ...]) -> None:
    status, err = into_closed_pipe(env, b"1\n3\n", *args)
    assert status == BROKEN_PIPE and err == "", err


def test_check_into_a_closed_pipe_still_reports_the_bank_on_stderr(env: dict[str, str]) -> None:
    status, err = into_closed_pipe(env, b"", "check", "--stats")
    assert status == BROKEN_PIPE and "quality problem" in err
    assert "Traceback" not in err and "Exception" not in err


def test_play_into_head_exits_quietly_when_head_is_done(env: dict[str, str]) -> None:
    head = subprocess.Popen(["head", "-n", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert head.stdin is not None
    process = spawn(env, "play", "--seed", "1", "--count", "3", stdin=subprocess.PIPE, stdout=head.stdin)
    head.stdin.close()
    _, err = process.communicate(b"1\n3\n1\n3\n1\n3\n", timeout=60)
    assert head.stdout is not None
    out = head.stdout.read()
    head.wait(timeout=30)
    assert len(out.decode().splitlines()) == 2
    assert (
        process.returncode in (0, BROKEN_PIPE) and "Traceback" not in err.decode() and "Exception" not in err.decode()
    )


def test_a_quiz_cut_off_keeps_no_half_answer_and_starts_afresh(env: dict[str, str]) -> None:
    status, _ = into_closed_pipe(env, b"1\n3\n", "play", "--count", "2")
    assert status == BROKEN_PIPE and answers_in(env) == []  # the title was never read, so nothing was answered
    again, err = into_closed_pipe(env, b"", "play", "--count", "2")
    assert again == BROKEN_PIPE and err == ""
