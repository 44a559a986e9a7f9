"""The unsubscribe page and the one-click unsubscribe (RFC 8058), in the collect app."""

from typing import Any

import pytest
from chalice.test import Client
from survey_core.domain.suppressions import address_key

from tests.conftest import Deployment, example_event
from tests.integration.helpers import lambda_context, post_form
from tests.integration.test_send import EMAIL, FIXED_CLOCK, PHONE, _start

pytestmark = pytest.mark.integration
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ONE_CLICK = "List-Unsubscribe=One-Click"


def _suppressed(deployment: Deployment) -> list[tuple[str, str, str]]:
    table = deployment.physical_id("SuppressionsTable")
    items = deployment.client("dynamodb").scan(TableName=table)["Items"]
    return sorted((i["channel"]["S"], i["reason"]["S"], i["source"]["S"]) for i in items)


@pytest.fixture
def page(deployment: Deployment) -> Any:
    invitation = _start(deployment)
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        yield client, invitation["link_token"]["S"]


def test_the_link_shows_a_choice_and_changes_nothing(page: Any, deployment: Deployment) -> None:
    client, token = page
    shown = client.http.get(f"/u/{token}")
    assert shown.status_code == 200
    html = shown.body.decode()
    assert '<html lang="fi">' in html
    assert 'name="channel" id="channel-email" value="email" checked' in html
    assert 'id="channel-sms" value="sms">' in html  # offered, not chosen
    assert shown.headers["Content-Security-Policy"].startswith("default-src 'none'")
    # A mail scanner opening the link does not unsubscribe anyone.
    assert _suppressed(deployment) == []


def test_the_form_records_the_chosen_channels(page: Any, deployment: Deployment) -> None:
    client, token = page
    done = post_form(client, f"/u/{token}", "channel=email&channel=sms")
    assert done.status_code == 200
    assert "Kyselyviestit lopetettu" in done.body.decode()
    assert _suppressed(deployment) == [
        ("email", "unsubscribed", "link"),
        ("sms", "unsubscribed", "link"),
    ]


def test_choosing_nothing_asks_again(page: Any, deployment: Deployment) -> None:
    client, token = page
    again = post_form(client, f"/u/{token}", "")
    assert again.status_code == 400
    assert "Valitse vähintään yksi." in again.body.decode()
    assert _suppressed(deployment) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"),
        (
            "multipart/form-data; boundary=xyz",
            '--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            "One-Click\r\n--xyz--\r\n",
        ),
    ],
)
def test_a_mail_clients_one_click_post_unsubscribes_email(
    page: Any, deployment: Deployment, content_type: str, body: str
) -> None:
    client, token = page
    done = client.http.post(f"/u/{token}", headers={"Content-Type": content_type}, body=body)
    assert done.status_code == 200
    assert _suppressed(deployment) == [("email", "unsubscribed", "one-click")]


def test_an_unknown_link_gets_the_friendly_404(page: Any) -> None:
    client, _ = page
    for answer in (
        client.http.get("/u/" + "x" * 22),
        client.http.post("/u/" + "x" * 22, headers=FORM, body="channel=email"),
    ):
        assert answer.status_code == 404
        assert b"Traceback" not in answer.body


def test_an_opted_out_address_gets_no_later_survey_on_that_channel(
    page: Any, deployment: Deployment
) -> None:
    client, token = page
    post_form(client, f"/u/{token}", "channel=email")
    # The opt-out belongs to the address: it holds under another customer id too.
    later = _start(deployment, {"id": "cust-0002"}, order="A-2002")
    assert [c["S"] for c in later["channels"]["L"]] == ["sms"]


# ---------------------------------------------------------------- the address the link came to

NEW_EMAIL = "maija.uusi@example.com"
NEW_PHONE = "+358409998877"


def _send(deployment: Deployment, invitation: dict[str, Any], rungs: int) -> None:
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    for rung in range(rungs):
        event = {
            "invitationId": invitation["invitation_id"]["S"],
            "rung": rung,
            "taskToken": f"token-{rung}",
            "fallback": None,
        }
        assert send.lambda_handler(event, lambda_context())["outcome"] == "sent"


def _change_addresses(deployment: Deployment, **customer: str) -> None:
    """A product system tells of a new purchase with the customer's new contact points."""
    event = example_event("purchase-completed.json")
    event["detail"]["orderId"] = "A-3003"
    event["detail"]["customer"].update(customer)
    trigger = deployment.load("TriggerFunction", LOCAL_CLOCK=FIXED_CLOCK)
    trigger.lambda_handler(event, lambda_context())
    stored = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("CustomersTable"),
        Key={"customer_id": {"S": event["detail"]["customer"]["id"]}},
    )["Item"]
    assert stored["email"]["S"] == customer.get("email", EMAIL)


def _suppressed_keys(deployment: Deployment) -> list[tuple[str, str]]:
    table = deployment.physical_id("SuppressionsTable")
    items = deployment.client("dynamodb").scan(TableName=table)["Items"]
    return sorted((i["address_key"]["S"], i["source"]["S"]) for i in items)


def test_the_addresses_the_messages_went_to_are_suppressed_not_the_new_ones(
    deployment: Deployment,
) -> None:
    # Given the invitation email and the SMS reminder sent, and then the customer's email and
    # phone changed
    invitation = _start(deployment)
    _send(deployment, invitation, rungs=2)
    _change_addresses(deployment, email=NEW_EMAIL, phone=NEW_PHONE)
    # When the customer opts out of both by the link in that email
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        token = invitation["link_token"]["S"]
        assert post_form(client, f"/u/{token}", "channel=email&channel=sms").status_code == 200
    # Then the addresses the messages went to are suppressed, and the new ones are not
    assert _suppressed_keys(deployment) == sorted(
        [(address_key("email", EMAIL), "link"), (address_key("sms", PHONE), "link")]
    )
    # And a later survey reaches the customer at the new addresses
    later = _start(deployment, {"id": "cust-0002", "email": NEW_EMAIL, "phone": NEW_PHONE}, "B-1")
    assert [c["S"] for c in later["channels"]["L"]] == ["email", "sms", "email"]


def test_one_click_suppresses_the_address_the_email_went_to(deployment: Deployment) -> None:
    # Given the invitation email sent, then the customer's email changed
    invitation = _start(deployment)
    _send(deployment, invitation, rungs=1)
    _change_addresses(deployment, email=NEW_EMAIL)
    # When the mail client of the old address posts the one-click unsubscribe
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        done = post_form(client, f"/u/{invitation['link_token']['S']}", ONE_CLICK)
    # Then the old address is suppressed, the new one is not
    assert done.status_code == 200
    assert _suppressed_keys(deployment) == [(address_key("email", EMAIL), "one-click")]
