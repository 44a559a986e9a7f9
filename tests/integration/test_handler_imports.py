"""Every function's handler module imports without calling AWS: Lambda's init phase should only
make clients (cold start, bench.cold_start), and an import that reads a secret or a table fails
the whole sandbox when the call fails. Each import runs in a fresh interpreter with the
function's environment from template.yaml and every AWS endpoint pointing at a closed port, so
any call at import fails it."""

from __future__ import annotations

import subprocess

import pytest

from bench import sam
from bench.cold_start import Target, sources_layout

pytestmark = pytest.mark.integration

LAYOUT = sources_layout(sam.functions(), sam.layer_content_uri(), "test")
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused at once


@pytest.mark.parametrize("target", LAYOUT.targets[1:], ids=lambda t: t.name)
def test_the_handler_module_imports_without_calling_aws(target: Target) -> None:
    environment = {
        **target.environment,
        "AWS_ENDPOINT_URL": CLOSED_PORT,
        "AWS_MAX_ATTEMPTS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [LAYOUT.interpreter.executable, "-c", f"import {target.module}"],
        env=environment,
        cwd=target.path[0],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{target.name}: {done.stderr.strip()[-1500:]}"
