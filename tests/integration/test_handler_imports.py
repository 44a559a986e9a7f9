"""Every function's handler module imports without calling AWS: Lambda's init phase should only
make clients (cold start, bench.cold_start), and an import that reads a secret or a table fails
the whole sandbox when the call fails. Each import runs in a fresh interpreter with the
function's environment from template.yaml and every AWS endpoint pointing at a closed port, so
any call at import fails it. A function on DynamoDB makes exactly one DynamoDB client there,
which every model sends through."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import sam
from bench.cold_start import lambda_environment

pytestmark = pytest.mark.integration

FUNCTIONS = sam.functions()  # as the template deployed in moto gives them
LAYER = str(sam.REPO_ROOT / sam.layer_content_uri())
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused at once


# After the import: the DynamoDB clients made, and whether every model sends through the one.
SHARED_CLIENT = """
import gc, json, sys
__import__(sys.argv[1])
from botocore.client import BaseClient
made = [o for o in gc.get_objects() if isinstance(o, BaseClient)
        and o.meta.service_model.service_name == "dynamodb"]
models = sys.modules.get("survey_core.dal.models")
bound = [] if models is None else [
    m._connection.connection._client if m._connection else None
    for m in (models.Customer, models.Invitation, models.Response, models.AggregateCounter,
              models.Escalation, models.ContactLink, models.Suppression)]
print(json.dumps({"clients": len(made), "bound": len(bound),
                  "shared": all(c is not None and c is made[0] for c in bound)}))
"""


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_the_handler_imports_without_calling_aws_and_makes_one_dynamodb_client(
    function: sam.Function,
) -> None:
    # PynamoDB would make a session and a client per model on its first request (a few hundred
    # ms of the first invocation); dal/models.bind gives every model one client, made at init.
    # The sources on this interpreter: functions/<dir> and the layer, the venv's packages.
    directory = str(sam.REPO_ROOT / function.code_uri)
    environment = {
        **lambda_environment(function, (directory, LAYER), directory),
        "AWS_ENDPOINT_URL": CLOSED_PORT,
        "AWS_MAX_ATTEMPTS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", SHARED_CLIENT, function.module],
        env=environment,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{function.logical_id}: {done.stderr.strip()[-1500:]}"
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["bound"]:  # the function binds the models (dal.repositories)
        assert found == {"clients": 1, "bound": 7, "shared": True}, function.logical_id
    else:
        assert found["clients"] == 0, function.logical_id
