"""The local stack's standard output: handlers on many threads, one whole line at a time."""

import io
import json
import threading
import time

import pytest

from infra.local.functions import LineAtomicStream

pytestmark = pytest.mark.unit


class SlowTarget(io.StringIO):
    """A stream whose every write gives other threads their turn (as a file write may)."""

    def write(self, text: str) -> int:
        time.sleep(0)
        return super().write(text)


def test_records_printed_at_once_from_many_threads_stay_one_per_line() -> None:
    # Given eight threads printing JSON records the way Powertools' metrics do (print: the text,
    # then the newline, in two writes), with a switch between them as likely as it can be
    target = SlowTarget()
    stream = LineAtomicStream(target)
    start = threading.Barrier(8)

    def emit(thread: int) -> None:
        start.wait()
        for n in range(200):
            print(json.dumps({"thread": thread, "n": n}), file=stream)

    threads = [threading.Thread(target=emit, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every line is one record, and none is missing
    records = [json.loads(line) for line in target.getvalue().splitlines()]
    assert sorted((r["thread"], r["n"]) for r in records) == [
        (t, n) for t in range(8) for n in range(200)
    ]


def test_a_partial_line_waits_for_its_newline() -> None:
    target = io.StringIO()
    stream = LineAtomicStream(target)
    stream.write("half ")
    assert target.getvalue() == ""
    stream.write("and the rest\nnext")
    assert target.getvalue() == "half and the rest\n"
