"""What the benchmarks need from template.yaml and `sam build`: the functions (handler module,
code, environment as the template gives it) and whether .aws-sam/build matches the sources."""

from __future__ import annotations

import filecmp
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.template import read_sam_template

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
LAYER = "CoreLayer"
STACK_NAME = "feedback"
REGION = "eu-north-1"
ACCOUNT_ID = "123456789012"
# The parameters without a default, with the local stack's example values
# (infra.local.stack.DEFAULT_PARAMETERS); every other parameter takes its default.
PARAMETERS = {
    "SenderEmail": "surveys@example.com",
    "ConnectInstanceId": "00000000-0000-4000-8000-000000000001",
    "ConnectContactFlowId": "00000000-0000-4000-8000-000000000002",
}
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK_NAME,
}
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
    environment: dict[str, str]  # Globals and the function's own, resolved with example values

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


class _Resolver:
    """Intrinsic functions of template.yaml resolved with example values: a parameter its
    value, a resource a name (or ARN, URL) of the shape AWS gives it."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.conditions: dict[str, Any] = template.get("Conditions", {})
        self.parameters = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        } | PARAMETERS

    def value(self, node: Any) -> str:
        if isinstance(node, bool):
            return str(node).lower()
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, dict) and len(node) == 1:
            [(name, argument)] = node.items()
            if name == "Ref":
                return self.ref(str(argument))
            if name == "Fn::GetAtt":
                logical, attribute = (
                    argument.split(".", 1) if isinstance(argument, str) else argument
                )
                return self.attribute(logical, attribute)
            if name == "Fn::Sub":
                return self.sub(argument)
            if name == "Fn::If":
                condition, if_true, if_false = argument
                return self.value(if_true if self.condition(condition) else if_false)
            if name == "Fn::Join":
                separator, parts = argument
                return str(separator).join(self.value(p) for p in parts)
        raise ValueError(f"cannot resolve {node!r} in template.yaml")

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(self.conditions[node])
        [(name, argument)] = node.items()
        if name == "Fn::Equals":
            return self.value(argument[0]) == self.value(argument[1])
        if name == "Fn::Not":
            return not self.condition(argument[0])
        if name == "Fn::And":
            return all(self.condition(c) for c in argument)
        if name == "Fn::Or":
            return any(self.condition(c) for c in argument)
        if name == "Condition":
            return self.condition(str(argument))
        raise ValueError(f"cannot evaluate condition {node!r}")

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return self.value(variables[name])
            if "." in name:
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, str(text))

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = str(self.resources.get(name, {}).get("Type", ""))
        physical = _physical_name(name)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        if kind.endswith("::StateMachine"):
            return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{physical}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{physical}"
        if kind.endswith("::Api"):
            return "b3nch0api1"
        return physical

    def attribute(self, logical: str, attribute: str) -> str:
        if attribute in ("Name", "QueueName", "TopicName"):
            return _physical_name(logical)
        if attribute == "Arn":
            return f"arn:aws:bench:{REGION}:{ACCOUNT_ID}:{_physical_name(logical)}"
        raise ValueError(f"cannot resolve {logical}.{attribute} in template.yaml")


def _physical_name(logical_id: str) -> str:
    return f"{STACK_NAME}-{logical_id}-B3NCH0"


def functions(template: dict[str, Any] | None = None) -> list[Function]:
    """Every AWS::Serverless::Function of the template, in its order."""
    template = template if template is not None else read_sam_template(TEMPLATE)
    resolver = _Resolver(template)
    globals_ = template.get("Globals", {}).get("Function", {})
    common = globals_.get("Environment", {}).get("Variables", {})
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        own = properties.get("Environment", {}).get("Variables", {})
        environment = {name: resolver.value(v) for name, v in {**common, **own}.items()}
        found.append(
            Function(
                logical_id=logical_id,
                code_uri=str(properties["CodeUri"]),
                handler=str(properties["Handler"]),
                memory_mb=int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
                environment=environment,
            )
        )
    return found


def layer_content_uri(template: dict[str, Any] | None = None) -> str:
    template = template if template is not None else read_sam_template(TEMPLATE)
    return str(template["Resources"][LAYER]["Properties"]["ContentUri"])


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
