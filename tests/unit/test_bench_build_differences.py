"""bench.packages says whether .aws-sam/build is what `sam build` makes of the sources now:
only a real difference counts, not what the build leaves out on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import sam

pytestmark = pytest.mark.unit


def _built_layer(tmp_path: Path) -> tuple[Path, Path]:
    """A build folder whose layer holds survey_core as the layer's build copies it: without
    bytecode and without the .po catalogues (compiled to .mo instead)."""
    source = sam.REPO_ROOT / sam.layer_content_uri() / "survey_core"
    built = tmp_path / sam.LAYER / "python" / "survey_core"
    shutil.copytree(source, built, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.po"))
    return tmp_path, built


def test_a_build_without_the_catalogue_sources_matches(tmp_path: Path) -> None:
    build_dir, built = _built_layer(tmp_path)
    assert not list(built.rglob("*.po"))
    assert sam.build_differences([], sam.layer_content_uri(), build_dir) == []


def test_a_changed_module_is_a_difference(tmp_path: Path) -> None:
    build_dir, built = _built_layer(tmp_path)
    (built / "clock.py").write_text("# stale\n", encoding="utf-8")
    differences = sam.build_differences([], sam.layer_content_uri(), build_dir)
    assert differences == [f"{sam.layer_content_uri().rstrip('/')}/survey_core/clock.py"]
