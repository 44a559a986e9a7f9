"""infra/local/process.warm_starts: the stacks of a test session are forked from one starter,
made again only when the environment its imports saw has changed, and stopped at the end."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from infra.local import process

pytestmark = pytest.mark.unit


class FakeStarter:
    made: ClassVar[list[FakeStarter]] = []

    def __init__(self) -> None:
        self.env = process._imported_under()
        self.started: list[list[str]] = []
        self.closed = False
        FakeStarter.made.append(self)

    def start(self, options: list[str], log_path: Path) -> process.ForkedStack:
        self.started.append(options)
        return process.ForkedStack(pid=0)

    def close(self) -> None:
        self.closed = True


def test_one_starter_serves_every_test_and_a_changed_environment_gets_a_new_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(process, "Starter", FakeStarter)
    FakeStarter.made = []
    with process.warm_starts():
        for test in ("test_a (setup)", "test_b (setup)", "test_c (call)"):
            monkeypatch.setenv("PYTEST_CURRENT_TEST", test)  # pytest's, for each phase
            process._WarmStarts.start(["--port", "0"], tmp_path / "stack.log")
        assert len(FakeStarter.made) == 1
        assert len(FakeStarter.made[0].started) == 3
        monkeypatch.setenv("AWS_REGION", "eu-west-1")  # what imports may read
        process._WarmStarts.start(["--port", "0"], tmp_path / "stack.log")
        assert len(FakeStarter.made) == 2
        assert FakeStarter.made[0].closed and not FakeStarter.made[1].closed
    assert FakeStarter.made[1].closed
    assert process._WarmStarts.starter is None and not process._WarmStarts.enabled
