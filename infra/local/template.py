"""Turn template.yaml into a CloudFormation template that moto can create.

The cloud path (``sam build`` / ``sam deploy``) uploads code and ASL files; offline we do the
same job by hand: ASL files are inlined as ``Definition`` and code locations point at a small
placeholder zip, remembered so the adapter can run the real handler from the work tree.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)
from samtranslator.yaml_helper import yaml_parse

from . import cognito
from .lake import SERVED_TYPES as SERVED_BY_LAKE
from .lake import serve_after_stack, serve_before_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
CODE_BUCKET = "local-stack-code"
ACCOUNT_ID = "123456789012"  # moto's default account

# Resource types the local stack serves without moto's CloudFormation: survey pages are
# served by Chalice's local server, schedules and async-invoke failure destinations by the
# adapter, SES configuration sets through the SES API (moto's CloudFormation lacks them, and
# the adapter publishes SES events itself), SNS subscriptions through the SNS API (moto's
# CloudFormation lacks them), and moto enforces no IAM (so queue and topic policies have no
# effect there).
SERVED_BY_ADAPTER = frozenset(
    {
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::Scheduler::Schedule",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SQS::QueuePolicy",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        # The data lake (infra/local/lake.py): moto's CloudFormation has no Secrets Manager,
        # Glue or Athena resources, its APIs do; and moto enforces no bucket policies.
        *SERVED_BY_LAKE,
        "AWS::S3::BucketPolicy",
        # The results view's user pool, groups, client and domain (infra/local/cognito.py):
        # moto's CloudFormation has no Cognito types, its cognito-idp API does.
        *cognito.SERVED_TYPES,
    }
)
# Not on the local stack at all: moto's CloudFormation cannot create alarms, and the metrics
# they watch (AWS/Lambda, AWS/SQS, AWS/SES, ...) are not published locally anyway.
# Nor the managed login's branding: moto serves no managed login pages.
NOT_EMULATED = frozenset({"AWS::CloudWatch::Alarm", *cognito.NOT_EMULATED})
# Of those served by the adapter, the types whose !Ref is their Name: references to them
# become the name.
REF_IS_NAME = frozenset({"AWS::SES::ConfigurationSet", "AWS::Scheduler::ScheduleGroup"})
PSEUDO_PARAMETERS = ("AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::Partition")


@dataclass(frozen=True)
class FunctionSource:
    """Where a function's code lives in the work tree, by its template logical id."""

    logical_id: str
    code_dir: Path
    handler: str  # "module.attribute", as in the template

    @property
    def s3_key(self) -> str:
        return f"{self.logical_id}.zip"


@dataclass
class LocalTemplate:
    sam: dict[str, Any]
    cloudformation: dict[str, Any]
    functions: dict[str, FunctionSource]
    code_keys: list[str]  # placeholder objects the transformed template points at

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        resources = self.cloudformation["Resources"]
        return {k: v for k, v in resources.items() if v["Type"] == resource_type}

    def named_by_adapter(self, pseudo: dict[str, str]) -> dict[str, str]:
        """Logical id -> name of the REF_IS_NAME resources, pseudo parameters substituted."""
        names = {}
        for logical_id, resource in self.cloudformation["Resources"].items():
            if resource["Type"] in REF_IS_NAME:
                name = resource["Properties"]["Name"]
                text = name["Fn::Sub"] if isinstance(name, dict) else str(name)
                for parameter in PSEUDO_PARAMETERS:
                    text = text.replace(f"${{{parameter}}}", pseudo[parameter])
                names[logical_id] = text
        return names

    def for_moto(self, pseudo: dict[str, str]) -> dict[str, Any]:
        """The CloudFormation template without the types the adapter serves itself, and with
        DefinitionSubstitutions applied the way CloudFormation applies them (moto does not)."""
        template = copy.deepcopy(self.cloudformation)
        resources = template["Resources"]
        for resource in resources.values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                substitutions = props.pop("DefinitionSubstitutions", None)
                if substitutions:
                    props["DefinitionString"] = _substituted(
                        _definition_text(props["DefinitionString"]), substitutions
                    )
        dropped = {k for k, v in resources.items() if v["Type"] in SERVED_BY_ADAPTER | NOT_EMULATED}
        for logical_id in dropped:
            del resources[logical_id]
        for resource in resources.values():
            depends = resource.get("DependsOn")
            if isinstance(depends, str):
                depends = [depends]
            if depends:
                kept = [d for d in depends if d not in dropped]
                if kept:
                    resource["DependsOn"] = kept
                else:
                    resource.pop("DependsOn")
        return _refs_replaced(template, self.named_by_adapter(pseudo))


def _refs_replaced(node: Any, names: dict[str, str]) -> Any:
    """{"Ref": id} -> its name, and ${id} inside Fn::Sub strings likewise."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in names:
            return names[node["Ref"]]
        replaced = {k: _refs_replaced(v, names) for k, v in node.items()}
        sub = replaced.get("Fn::Sub")
        if isinstance(sub, str):
            for logical_id, name in names.items():
                sub = sub.replace(f"${{{logical_id}}}", name)
            replaced["Fn::Sub"] = sub
        return replaced
    if isinstance(node, list):
        return [_refs_replaced(item, names) for item in node]
    return node


def _definition_text(definition: Any) -> str:
    """samtranslator emits the ASL as Fn::Join of plain lines."""
    if isinstance(definition, str):
        return definition
    separator, lines = definition["Fn::Join"]
    return str(separator).join(lines)


def _substituted(text: str, substitutions: dict[str, Any]) -> dict[str, Any]:
    """${Name} placeholders replaced by their values, as an Fn::Join moto can resolve.

    (moto's Fn::Sub goes through string.Template, which turns the ASL's $$ into $.)
    """
    parts: list[Any] = []
    for index, piece in enumerate(re.split(r"\$\{(\w+)\}", text)):
        if index % 2:
            parts.append(substitutions.get(piece, f"${{{piece}}}"))
        elif piece:
            parts.append(piece)
    return {"Fn::Join": ["", parts]}


class _ManagedPolicies:
    """samtranslator asks for the ARNs of AWS managed policies; they are well known."""

    def load(self) -> dict[str, str]:
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess",
            "AWSXRayDaemonWriteAccess",
            "AWSLambdaRole",
        ]
        arns = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in names}
        arns["AWSXrayWriteOnlyAccess"] = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
        arns["AWSXRayDaemonWriteAccess"] = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
        return arns


def read_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml_parse(path.read_text(encoding="utf-8"))


def _transform(template: dict[str, Any], parameters: dict[str, Any], region: str) -> dict[str, Any]:
    """samtranslator's own transform(), with the region given instead of looked up."""
    to_py27_compatible_template(template, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    policies = _ManagedPolicies().load()
    result = translator.translate(
        template, parameter_values=parameters, get_managed_policy_map=lambda: policies
    )
    return undo_mark_unicode_str_in_template(result)


def build_local_template(
    parameters: dict[str, str], region: str, path: Path = TEMPLATE_PATH
) -> LocalTemplate:
    sam = read_sam_template(path)
    root = path.parent
    prepared = copy.deepcopy(sam)
    functions: dict[str, FunctionSource] = {}
    code_keys: list[str] = []
    for logical_id, resource in prepared["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function":
            source = FunctionSource(logical_id, root / props["CodeUri"], props["Handler"])
            functions[logical_id] = source
            code_keys.append(source.s3_key)
            props["CodeUri"] = {"Bucket": CODE_BUCKET, "Key": source.s3_key}
        elif kind == "AWS::Serverless::LayerVersion":
            # The layer's code is on sys.path in-process (infra/local/functions.py).
            code_keys.append(f"{logical_id}.zip")
            props["ContentUri"] = {"Bucket": CODE_BUCKET, "Key": f"{logical_id}.zip"}
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            asl_path = root / props.pop("DefinitionUri")
            props["Definition"] = json.loads(asl_path.read_text(encoding="utf-8"))
    cloudformation = _transform(prepared, dict(parameters), region)
    return LocalTemplate(sam, cloudformation, functions, code_keys)


def create_stack(
    cloudformation: Any,
    s3: Any,
    sesv2: Any,
    template: LocalTemplate,
    parameters: dict[str, str],
    stack_name: str,
) -> dict[str, str]:
    """Create the stack on moto (server or mock_aws) and return its outputs."""
    region = s3.meta.region_name
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
    }
    s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as archive:
        archive.writestr("README.txt", "The code runs from the work tree (infra/local).")
    for key in template.code_keys:
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=placeholder.getvalue())
    names = template.named_by_adapter(pseudo)
    for logical_id in template.resources_of_type("AWS::SES::ConfigurationSet"):
        sesv2.create_configuration_set(ConfigurationSetName=names[logical_id])
    # moto's server through AWS_ENDPOINT_URL, or mock_aws, like the handlers' own clients.
    scheduler = boto3.client("scheduler", region_name=region)
    for logical_id in template.resources_of_type("AWS::Scheduler::ScheduleGroup"):
        scheduler.create_schedule_group(Name=names[logical_id])
    serve_before_stack(template.cloudformation, parameters, stack_name, region)
    cognito.serve_before_stack(template.cloudformation, parameters, stack_name, region)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template.for_moto(pseudo)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} not created: {stack.get('StackStatusReason')}")
    serve_after_stack(template.cloudformation, parameters, stack_name, region)
    cognito.serve_after_stack(template.cloudformation, parameters, stack_name, region)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
