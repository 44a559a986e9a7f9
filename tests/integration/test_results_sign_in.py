"""The results view's user pool from template.yaml in moto: the pool, groups and client the
template declares; python -m tools.users adding, listing, re-scoping and removing users; and a
token moto issues to such a user, verified with the keys moto's server serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from survey_core.access import Role, Scope, ScopeKind

from functions.results.results_auth.identity import Pool, TokenRefused, verify_id_token
from functions.results.results_auth.jwks import HttpKeySource, KeySet, jwks_url
from tests.conftest import REGION, Deployment
from tools.users import main

pytestmark = pytest.mark.integration

PASSWORD = "Demo-password-2027"  # a local demo user's
MANAGER = "manager@example.com"
AGENT = "agent@example.com"


def _users(*argv: str) -> int:
    return main([*argv, "--stack", "feedback", "--region", REGION])


def _pool(deployment: Deployment) -> Pool:
    return Pool(
        REGION,
        deployment.outputs["ResultsUserPoolId"],
        deployment.outputs["ResultsUserPoolClientId"],
    )


def _id_token(deployment: Deployment, email: str) -> str:
    result = deployment.client("cognito-idp").initiate_auth(
        ClientId=deployment.outputs["ResultsUserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


@pytest.fixture
def moto_keys() -> Iterator[KeySet]:
    """The pool's keys over HTTP from moto's server on the loopback address (as the results
    function reads them from the local stack's endpoint)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield KeySet(
            HttpKeySource(
                jwks_url(
                    "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_x",
                    f"http://{host}:{port}",
                )
            )
        )
    finally:
        server.stop()


def test_the_template_pool_groups_and_client(deployment: Deployment) -> None:
    cognito = deployment.client("cognito-idp")
    pool_id = deployment.outputs["ResultsUserPoolId"]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["UsernameAttributes"] == ["email"]
    assert "custom:scope" in {a["Name"] for a in pool["SchemaAttributes"]}
    groups = cognito.list_groups(UserPoolId=pool_id)["Groups"]
    assert {g["GroupName"]: g["Precedence"] for g in groups} == {
        "cx-admin": 0,
        "manager": 1,
        "agent": 2,
    }
    client = cognito.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=deployment.outputs["ResultsUserPoolClientId"]
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["IdTokenValidity"] == 1 and client["TokenValidityUnits"]["IdToken"] == "hours"
    # The callback URLs are resolved after the stack, from the survey links' base URL.
    assert client["CallbackURLs"] == ["https://surveys.example.com/results/auth/callback"]
    assert client["LogoutURLs"] == ["https://surveys.example.com/results/signed-out"]
    # No user may write their own scope.
    assert "custom:scope" not in client["WriteAttributes"]
    assert deployment.outputs["ResultsSignInIssuer"] == (
        f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    )


def test_users_round_trip(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a manager and an agent added by the command
    assert (
        _users("add", MANAGER, "--role", "manager", "--scope", "business_area=webshop",
               "--password", PASSWORD) == 0
    )  # fmt: skip
    assert _users("add", AGENT, "--role", "agent", "--scope", "agent=a-17") == 0
    capsys.readouterr()
    # When they are listed
    assert _users("list") == 0
    listed = sorted(capsys.readouterr().out.splitlines())
    # Then each shows with role and scope
    assert listed[0].split("\t")[:3] == [AGENT, "agent", "agent=a-17"]
    assert listed[1].split("\t")[:3] == [MANAGER, "manager", "business_area=webshop"]
    assert PASSWORD not in listed[1]
    # When the manager's scope and role change
    assert _users("set-scope", MANAGER, "--scope", "touchpoint=app") == 0
    assert _users("set-scope", AGENT, "--scope", "all", "--role", "cx-admin") == 0
    capsys.readouterr()
    assert _users("list") == 0
    listed = sorted(capsys.readouterr().out.splitlines())
    assert listed[0].split("\t")[:3] == [AGENT, "cx-admin", "-"]
    assert listed[1].split("\t")[:3] == [MANAGER, "manager", "touchpoint=app"]
    # And when one is removed, only the other is left
    assert _users("remove", AGENT) == 0
    capsys.readouterr()
    assert _users("list") == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == [MANAGER]


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["add", AGENT, "--role", "agent", "--scope", "business_area=webshop"], 2),
        (["add", AGENT, "--role", "manager"], 2),  # a manager needs a scope
        (["add", AGENT, "--role", "cx-admin", "--scope", "touchpoint=app"], 2),
        (["add", "not-an-address", "--role", "manager", "--scope", "all"], 2),
        (["set-scope", MANAGER, "--scope", "region=north"], 2),
        (["set-scope", MANAGER, "--scope", "all", "--role", "agent"], 2),
        (["add", MANAGER, "--role", "manager", "--scope", "all"], 1),  # exists already
        (["remove", "nobody@example.com"], 1),
        (["set-scope", "nobody@example.com", "--scope", "all"], 1),
    ],
)
def test_refusals(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], argv: list[str], status: int
) -> None:
    assert _users("add", MANAGER, "--role", "manager", "--scope", "all") == 0
    capsys.readouterr()
    assert _users(*argv) == status
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert "@" not in error  # no address in the messages


def test_usage_errors_without_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--region", REGION]) == 2
    assert "--stack" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["add", MANAGER, "--role", "owner", "--stack", "feedback"])
    assert exit_.value.code == 2


def test_a_moto_token_of_a_user_the_command_added_signs_in(
    deployment: Deployment, moto_keys: KeySet
) -> None:
    # Given a manager and an agent added by the command
    assert (
        _users("add", MANAGER, "--role", "manager", "--scope", "business_area=webshop",
               "--password", PASSWORD) == 0
    )  # fmt: skip
    assert (
        _users("add", AGENT, "--role", "agent", "--scope", "agent=a-17", "--password", PASSWORD)
        == 0
    )
    pool = _pool(deployment)
    now = datetime.now(UTC)  # moto stamps its tokens with the real time
    # When moto signs them in, their ID tokens verify with the keys moto's server serves
    manager = verify_id_token(
        _id_token(deployment, MANAGER), pool=pool, keys=moto_keys.get, now=now
    )
    agent = verify_id_token(_id_token(deployment, AGENT), pool=pool, keys=moto_keys.get, now=now)
    # Then with the role and scope the command gave
    assert (manager.role, manager.scope) == (
        Role.MANAGER,
        Scope(ScopeKind.BUSINESS_AREA, "webshop"),
    )
    assert manager.email == MANAGER
    assert (agent.role, agent.scope) == (Role.AGENT, Scope(ScopeKind.AGENT, "a-17"))
    # And a re-scope shows in the next token
    assert _users("set-scope", MANAGER, "--scope", "touchpoint=app") == 0
    rescoped = verify_id_token(
        _id_token(deployment, MANAGER), pool=pool, keys=moto_keys.get, now=now
    )
    assert rescoped.scope == Scope(ScopeKind.TOUCHPOINT, "app")
    # But not for another client of the pool
    other = Pool(REGION, pool.user_pool_id, "another-client")
    with pytest.raises(TokenRefused, match="audience"):
        verify_id_token(_id_token(deployment, MANAGER), pool=other, keys=moto_keys.get, now=now)
