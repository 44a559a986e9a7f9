"""The results view's Cognito user pool on the local stack, from template.yaml.

moto's CloudFormation has no Cognito resource types; its cognito-idp API does. So the pool, its
groups, its app client and its domain are created here with the template's own properties
(each property the API has under the same name; UserPoolName is the API's PoolName, and
EnabledMfas becomes the pool's MFA configuration):

- before the stack: everything, so that every !Ref (and ${...} in Fn::Sub) to them, above all
  the Outputs tools/users.py reads, becomes the pool id, client id, group or domain name in
  the template moto creates, as CloudFormation would resolve them;
- after the stack: the client again (UpdateUserPoolClient) with its callback and sign-out URLs
  resolved, which name the stack's API.

Not emulated: AWS::Cognito::ManagedLoginBranding (moto serves no managed login pages; a local
sign-in page has to stand in for them), and moto does not enforce the client's auth flows,
password policy or MFA. Its tokens are real RS256 JWTs with the cloud's issuer
(https://cognito-idp.<region>.amazonaws.com/<pool id>), signed with a key moto serves at
<endpoint>/<pool id>/.well-known/jwks.json.
"""

from __future__ import annotations

from typing import Any

import boto3

USER_POOL = "AWS::Cognito::UserPool"
GROUP = "AWS::Cognito::UserPoolGroup"
CLIENT = "AWS::Cognito::UserPoolClient"
DOMAIN = "AWS::Cognito::UserPoolDomain"
BRANDING = "AWS::Cognito::ManagedLoginBranding"
SERVED_TYPES = frozenset({USER_POOL, GROUP, CLIENT, DOMAIN})
NOT_EMULATED = frozenset({BRANDING})


def _api_arguments(client: Any, operation: str, props: dict[str, Any]) -> dict[str, Any]:
    """The properties the API operation takes under the same name."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    return {k: v for k, v in props.items() if k in members}


def _resolver(
    cloudformation: dict[str, Any],
    parameters: dict[str, str],
    physical: dict[str, str],
    stack_name: str,
    region: str,
) -> Any:
    from .iam import Resolver, Stack
    from .template import ACCOUNT_ID

    return Resolver(cloudformation, parameters, physical, Stack(region, ACCOUNT_ID, {}), stack_name)


def _of_type(cloudformation: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cloudformation["Resources"].items() if v["Type"] == kind}


def serve_before_stack(
    cloudformation: dict[str, Any], parameters: dict[str, str], stack_name: str, region: str
) -> None:
    """Create the pools, groups, clients and domains; write their ids over every reference."""
    from .template import _refs_replaced

    client = boto3.client("cognito-idp", region_name=region)
    made: dict[str, str] = {}  # logical id -> what !Ref gives

    def resolved(logical_id: str) -> dict[str, Any]:
        props = cloudformation["Resources"][logical_id].get("Properties", {})
        value: dict[str, Any] = _resolver(
            cloudformation, parameters, made, stack_name, region
        ).value(props)
        return value

    for logical_id in _of_type(cloudformation, USER_POOL):
        props = resolved(logical_id)
        arguments = _api_arguments(client, "CreateUserPool", props)
        arguments["PoolName"] = props.get("UserPoolName") or f"{stack_name}-{logical_id}"
        pool_id = client.create_user_pool(**arguments)["UserPool"]["Id"]
        if "SOFTWARE_TOKEN_MFA" in props.get("EnabledMfas", []):
            client.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=props.get("MfaConfiguration", "OFF"),
            )
        made[logical_id] = pool_id
    for logical_id in _of_type(cloudformation, GROUP):
        props = resolved(logical_id)
        client.create_group(**_api_arguments(client, "CreateGroup", props))
        made[logical_id] = props["GroupName"]
    for logical_id in _of_type(cloudformation, CLIENT):
        props = resolved(logical_id)
        props.pop("CallbackURLs", None)  # they name the API: set after the stack
        props.pop("LogoutURLs", None)
        props.setdefault("ClientName", f"{stack_name}-{logical_id}")
        created = client.create_user_pool_client(
            **_api_arguments(client, "CreateUserPoolClient", props)
        )
        made[logical_id] = created["UserPoolClient"]["ClientId"]
    for logical_id in _of_type(cloudformation, DOMAIN):
        props = resolved(logical_id)
        client.create_user_pool_domain(**_api_arguments(client, "CreateUserPoolDomain", props))
        made[logical_id] = props["Domain"]
    for name, resource in list(cloudformation["Resources"].items()):
        cloudformation["Resources"][name] = _refs_replaced(resource, made)
    cloudformation["Outputs"] = _refs_replaced(cloudformation.get("Outputs", {}), made)


def serve_after_stack(
    cloudformation: dict[str, Any], parameters: dict[str, str], stack_name: str, region: str
) -> None:
    """The clients' callback and sign-out URLs, now that the API they name exists."""
    clients = _of_type(cloudformation, CLIENT)
    if not clients:
        return
    stack_resources = boto3.client("cloudformation", region_name=region).describe_stack_resources(
        StackName=stack_name
    )["StackResources"]
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") or "" for r in stack_resources}
    resolver = _resolver(cloudformation, parameters, physical, stack_name, region)
    client = boto3.client("cognito-idp", region_name=region)
    for logical_id, resource in clients.items():
        props = resolver.value(resource["Properties"])  # UserPoolId: the pool's id by now
        props.setdefault("ClientName", f"{stack_name}-{logical_id}")
        [made] = [
            c["ClientId"]
            for c in client.list_user_pool_clients(UserPoolId=props["UserPoolId"], MaxResults=60)[
                "UserPoolClients"
            ]
            if c["ClientName"] == props["ClientName"]
        ]
        arguments = _api_arguments(client, "UpdateUserPoolClient", props)
        client.update_user_pool_client(ClientId=made, **arguments)
