"""The models send through one botocore DynamoDB client per endpoint, made when they are bound
(at a function's init), not one per model on its first request (dal/models.py: bind).

PynamoDB has no supported way to give a model a client: bind relies on Model._get_connection()
and on Connection.client returning Connection._client once set (PynamoDB 6.1). These tests fail
if a PynamoDB upgrade changes that, instead of every model quietly making its own client again.
No network: the requests are answered by botocore's Stubber."""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

pytestmark = pytest.mark.unit

REGION = "eu-north-1"
NAMES = ("customers", "invitations", "responses", "aggregates", "escalations", "suppressions")


@pytest.fixture
def models_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every model, put back as it was afterwards (the test process's models are bound by other
    tests too); credentials from the environment, as in Lambda (a client made without any
    would make PynamoDB make another on the first request), and no endpoint override."""
    from survey_core.dal import models

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    all_models = [models.Customer, models.Invitation, models.Response, models.AggregateCounter,
                  models.Escalation, models.ContactLink, models.Suppression]  # fmt: skip
    fields = ("table_name", "region", "host")
    kept = [
        (model, {name: getattr(model.Meta, name, None) for name in fields}, model._connection)
        for model in all_models
    ]
    yield all_models
    for model, meta, connection in kept:
        for field, kept_value in meta.items():
            setattr(model.Meta, field, kept_value)
        model._connection = connection


def _client(model: Any) -> Any:
    return model._get_connection().connection.client


def test_every_model_and_the_transactions_use_one_client_made_when_bound(
    models_kept: list[Any],
) -> None:
    from survey_core.config import Tables
    from survey_core.dal.models import bind_tables, shared_connection
    from survey_core.dal.writes import transactions

    # Given the models bound to a stack's tables, as a function does at init
    bind_tables(Tables(*NAMES), REGION)
    # Then every model's PynamoDB connection holds the very same client, made already
    shared = shared_connection(REGION)
    for model in models_kept:
        assert model._get_connection().connection._client is shared.client, model.__name__
        assert _client(model) is shared.client, model.__name__
    # and the transactions go through it too
    assert transactions(REGION) is shared
    # made with PynamoDB's own settings (its timeouts and retries)
    config = shared.client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.max_pool_connections) == (
        15,
        30,
        10,
    )
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert shared.client.meta.region_name == REGION


def test_a_models_request_goes_through_the_shared_client(models_kept: list[Any]) -> None:
    from survey_core.config import Tables
    from survey_core.dal.models import Customer, Suppression, bind_tables, shared_connection

    bind_tables(Tables(*NAMES), REGION)
    shared = shared_connection(REGION)
    item = {"customer_id": {"S": "c-1"}, "language": {"S": "fi"}, "updated_at": {"S": "t"}}
    with Stubber(shared.client) as stubbed:
        # When two models make a request each, answered by a stub on the shared client
        stubbed.add_response("get_item", {"Item": item}, {"TableName": "customers",
                             "Key": {"customer_id": {"S": "c-1"}}, "ConsistentRead": False,
                             "ReturnConsumedCapacity": "TOTAL"})  # fmt: skip
        stubbed.add_response("get_item", {})
        found = Customer.get("c-1")
        with pytest.raises(Suppression.DoesNotExist):
            Suppression.get("email#x")
        # Then both went through it (a request on another client would have reached no stub)
        stubbed.assert_no_pending_responses()
    assert found.language == "fi"


def test_a_model_bound_anew_gets_the_new_endpoints_client(models_kept: list[Any]) -> None:
    # The operator tools bind models to a local stack's endpoint; bound again to the stack's
    # tables (the same names), a model must not keep the local endpoint's client.
    from survey_core.config import Tables
    from survey_core.dal.models import Customer, Invitation, bind, bind_tables, shared_connection

    bind(Customer, "customers", REGION, "http://127.0.0.1:9")
    local = shared_connection(REGION, "http://127.0.0.1:9")
    assert _client(Customer) is local.client
    assert local.client.meta.endpoint_url == "http://127.0.0.1:9"
    bind_tables(Tables(*NAMES), REGION)
    regional = shared_connection(REGION)
    assert _client(Customer) is regional.client is _client(Invitation)
    assert regional.client.meta.endpoint_url == f"https://dynamodb.{REGION}.amazonaws.com"


def test_the_endpoint_from_the_environment_has_a_client_of_its_own(
    models_kept: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The local stack and moto's server set AWS_ENDPOINT_URL for the functions' clients
    from survey_core.dal.models import shared_connection

    regional = shared_connection(REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8")
    local = shared_connection(REGION)
    assert local is not regional
    assert local.client.meta.endpoint_url == "http://127.0.0.1:8"
    assert regional.client.meta.endpoint_url == f"https://dynamodb.{REGION}.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:7")
    assert shared_connection(REGION).client.meta.endpoint_url == "http://127.0.0.1:7"


def test_connections_differ_by_endpoint_and_settings_only(models_kept: list[Any]) -> None:
    from survey_core.dal.models import shared_connection

    assert shared_connection(REGION) is shared_connection(REGION, None, read_timeout_seconds=30)
    assert shared_connection(REGION) is not shared_connection(REGION, "http://127.0.0.1:9")
    slower = shared_connection(REGION, read_timeout_seconds=60)
    assert slower is not shared_connection(REGION)
    assert slower.client.meta.config.read_timeout == 60


def test_the_shared_client_is_configured_as_pynamodb_configures_its_own(
    models_kept: list[Any],
) -> None:
    from pynamodb.connection import Connection
    from survey_core.dal.models import shared_connection

    pynamodbs = Connection(region=REGION).client  # as PynamoDB makes a model's, unshared
    shared = shared_connection(REGION).client
    fields = ("region_name", "connect_timeout", "read_timeout", "max_pool_connections", "retries")
    for field in fields:
        assert getattr(shared.meta.config, field) == getattr(pynamodbs.meta.config, field), field
    assert shared.meta.endpoint_url == pynamodbs.meta.endpoint_url
    # no parameter validation (botocore keeps it in the serializer, not in meta.config)
    assert type(shared._serializer) is type(pynamodbs._serializer)


def test_a_model_setting_what_the_shared_client_cannot_carry_is_refused(
    models_kept: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey_core.dal.models import Customer, bind

    monkeypatch.setattr(Customer.Meta, "extra_headers", {"x-proxy": "1"})
    with pytest.raises(ValueError, match="extra_headers"):
        bind(Customer, "customers", REGION)


def test_another_default_session_gets_a_client_of_its_own(
    models_kept: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client comes from boto3's default session, as the functions' other clients do; one
    # made anew (the operator tools' profile, moto's reset) has its own credentials.
    import boto3
    from survey_core.dal.models import shared_connection

    first = shared_connection(REGION)
    assert shared_connection(REGION) is first
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.Session())
    assert shared_connection(REGION) is not first
