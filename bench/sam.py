"""What the benchmarks need from template.yaml and `sam build`: the template deployed in moto as
the local stack deploys it, each function as that deployment gives it (handler module, code,
memory, environment), and whether .aws-sam/build matches the sources."""

from __future__ import annotations

import filecmp
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
LAYER = "CoreLayer"
STACK_NAME = "feedback"
REGION = "eu-north-1"
_SKIPPED = ("__pycache__", ".pyc")
# Sources the builds leave out on purpose: the message catalogues ship compiled (.mo, by
# layers/survey_core/build_layer.py), and prune_babel.py runs at build time only.
_NOT_SHIPPED = (".po", "prune_babel.py")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: str  # relative to the repository, e.g. functions/collect/
    handler: str  # e.g. sms.sms_reply
    memory_mb: int
    environment: dict[str, str]  # as the deployed template gives it

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


def _drop_records(backend: Any, function_arn: str, items: list[Any], source: str) -> str:
    return "dropped"  # moto then clears the shard's records, as after a delivery


@contextmanager
def deployed(parameters: dict[str, str] | None = None) -> Iterator[Any]:
    """template.yaml deployed in moto in this process (mock_aws), with the local stack's
    parameters, this process's environment set for it (region, no endpoint) until the context
    ends: yields its LocalTemplate. The tables' stream records are dropped: moto would try
    to run their consumers in Docker for every item written, a logged error each."""
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend

    from infra.local.stack import DEFAULT_PARAMETERS
    from infra.local.template import build_local_template, create_stack

    # The survey link's base given, as the local stack gives it: the API's own URL would be a
    # reference cycle (the API calls the functions that name it), which moto cannot resolve.
    link = {"SurveyLinkBaseUrl": "https://surveys.example.com"}
    parameters = {**DEFAULT_PARAMETERS, **link, **(parameters or {})}
    # The region as Lambda sets it; mock_aws sets fake credentials itself.
    with (
        mock.patch.dict(os.environ, {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}),
        mock_aws(),
        mock.patch.object(LambdaBackend, "send_dynamodb_items", _drop_records),
    ):
        os.environ.pop("AWS_ENDPOINT_URL", None)
        import boto3

        template = build_local_template(parameters, REGION)
        cloudformation, s3, sesv2 = (
            boto3.client(s, region_name=REGION) for s in ("cloudformation", "s3", "sesv2")
        )
        create_stack(cloudformation, s3, sesv2, template, parameters, STACK_NAME)
        yield template


def deployed_functions(template: Any) -> list[Function]:
    """Every function of a deployed template (inside `deployed`), in the template's order."""
    from moto.awslambda.models import lambda_backends

    from infra.local.template import ACCOUNT_ID

    by_key = {f.code["S3Key"]: f for f in lambda_backends[ACCOUNT_ID][REGION].list_functions()}
    found = []
    for logical_id, source in template.functions.items():
        made = by_key[source.s3_key]
        environment = {k: str(v) for k, v in made.environment_vars.items()}
        code_uri = template.sam["Resources"][logical_id]["Properties"]["CodeUri"]
        found.append(Function(logical_id, code_uri, source.handler, made.memory_size, environment))
    return found


def functions() -> list[Function]:
    with deployed() as template:
        return deployed_functions(template)


def layer_content_uri() -> str:
    from infra.local.template import read_sam_template

    return str(read_sam_template()["Resources"][LAYER]["Properties"]["ContentUri"])


def _shipped_files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.endswith(_SKIPPED) for part in p.parts)
        and not p.name.endswith(_NOT_SHIPPED)
    )


def _differs(source: Path, built: Path) -> bool:
    return not built.is_file() or not filecmp.cmp(source, built, shallow=False)


def build_differences(
    function_list: list[Function], layer_uri: str, build_dir: Path = BUILD_DIR
) -> list[str]:
    """Source files whose built copy is missing or differs (the layer's packages and each
    function's Python files): empty when .aws-sam/build is what `sam build` makes of them."""
    differences: list[str] = []
    for package in (p for p in (REPO_ROOT / layer_uri).iterdir() if (p / "__init__.py").exists()):
        built = build_dir / LAYER / "python" / package.name
        for relative in _shipped_files(package):
            if _differs(package / relative, built / relative):
                differences.append(f"{layer_uri.rstrip('/')}/{package.name}/{relative}")
    for function in function_list:
        source = REPO_ROOT / function.code_uri
        for relative in (r for r in _shipped_files(source) if r.suffix == ".py"):
            if _differs(source / relative, build_dir / function.logical_id / relative):
                differences.append(f"{function.logical_id}: {function.code_uri}{relative}")
    return differences
