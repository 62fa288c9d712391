"""Writing a rendered template: a regular file is replaced atomically; a device or a pipe is written to, never
replaced (``-o /dev/null`` run as root must leave /dev/null a device)."""

from __future__ import annotations

import os
import stat
import threading

from watchbot_cfn.sources.output import write_atomic


def test_a_device_is_written_to_and_stays_a_device():
    before = os.stat(os.devnull)
    write_atomic(os.devnull, '{"Resources": {}}\n')
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_named_pipe_gets_the_text_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "template.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_atomic(fifo, "text\n")
    reader.join(10)
    assert received == ["text\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_regular_file_is_replaced_whole_and_nothing_is_left_beside_it(tmp_path):
    target = tmp_path / "template.json"
    target.write_text("old")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [path.name for path in tmp_path.iterdir()] == ["template.json"]
