"""Answering on the survey page and by SMS (logic/collect.py, logic/replies.py) on the
in-memory repositories: no moto. The same paths on the template's tables are in
tests/integration/test_collect.py and test_sms_reply.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from survey_core.catalogue import load_catalogue
from survey_core.config import CollectConfig
from survey_core.domain.counters import Counts
from survey_core.domain.invitations import SENDING, Attempt, Invitation
from survey_core.domain.repositories import Repositories
from survey_core.domain.suppressions import address_key, suppressed_channels
from survey_core.logic.collect import show_survey, submit_survey
from survey_core.logic.replies import InboundSms, ReplyPorts, handle_reply
from survey_core.tokens import new_link_token

from tests.repositories import MemoryInvitations, memory_repositories
from tests.unit.test_trigger_use_case import ENVIRONMENT

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
CONFIG = CollectConfig.from_env(ENVIRONMENT)
CATALOGUE = load_catalogue()
PHONE = "+358401234567"


def _open_invitation(repos: Repositories, status: str = "sent") -> Invitation:
    invitation = Invitation(
        "inv-1",
        survey_id="post-purchase",
        customer_id="c-1",
        link_token=new_link_token(),
        metric="nps",
        metrics=["nps"],
        language="fi",
        segment={"businessArea": "webshop"},
        channels=["sms", "email"],
        rung_at=[NOW.isoformat(), (NOW + timedelta(days=1)).isoformat()],
        status=status,
        closes_at=(NOW + timedelta(days=7)).isoformat(),
    )
    repos.invitations.create(invitation)
    return invitation


def _counted(repos: Repositories, series: str) -> dict[str, int]:
    """What the counters of one series hold, added up over days and segments."""
    invitations = repos.invitations
    assert isinstance(invitations, MemoryInvitations)
    total: dict[str, int] = {}
    for (found, _), counts in invitations.counters.added.items():
        if found == series:
            for name, n in counts.items():
                total[name] = total.get(name, 0) + n
    return {name: n for name, n in total.items() if n}


def test_a_page_answer_is_stored_counted_and_shown_again() -> None:
    repos = memory_repositories()
    invitation = _open_invitation(repos)
    token = invitation.link_token

    page = submit_survey(
        token, {"score": "9", "comment": " Kiitos! "}, "/a", CONFIG, CATALOGUE, repos
    )

    assert page.status == 200
    assert page.answered is not None and page.answered.first_answer
    response = repos.responses.get("inv-1")
    assert response is not None
    assert (response.scores, response.comment, response.channel) == ({"nps": 9}, "Kiitos!", "web")
    stored = repos.invitations.get("inv-1")
    assert stored is not None and stored.status == "answered"
    assert _counted(repos, "post-purchase#nps") == {"n": 1, "s9": 1}
    # The survey page shows the stored answer (it is still open to changes).
    again = show_survey(token, None, "/a", CONFIG, CATALOGUE, repos)
    assert again.status == 200 and "Kiitos!" in again.html


def test_a_form_without_a_score_stores_nothing() -> None:
    repos = memory_repositories()
    invitation = _open_invitation(repos)
    page = submit_survey(invitation.link_token, {"comment": "x"}, "/a", CONFIG, CATALOGUE, repos)
    assert page.status == 400
    assert repos.responses.get("inv-1") is None


def test_a_closed_survey_takes_no_answer() -> None:
    repos = memory_repositories()
    invitation = _open_invitation(repos, status="expired")
    page = submit_survey(invitation.link_token, {"score": "3"}, "/a", CONFIG, CATALOGUE, repos)
    assert page.status == 410
    assert repos.responses.get("inv-1") is None


def _asked_by_sms(repos: Repositories) -> Invitation:
    invitation = _open_invitation(repos)
    key = address_key("sms", PHONE)
    attempt = Attempt(rung=0, channel="sms", outcome=SENDING, at=NOW.isoformat(), address_key=key)
    sent = Counts("post-purchase#sent", "2026-11-16", invitation.segment, {"sms_messages": 1})
    repos.invitations.record_intent("inv-1", attempt, 0, NOW, sent)
    repos.invitations.record_sent("inv-1", "c-1", 0, "sms-msg-1", NOW, sms_address=key)
    return invitation


class NoSms:
    def send(self, *, phone: str, text: str) -> str:
        raise AssertionError("no help SMS expected")


def _reply(body: str, inbound_id: str) -> InboundSms:
    return InboundSms(sender=PHONE, body=body, inbound_id=inbound_id, in_reply_to=None)


def test_an_sms_reply_answers_once_and_stop_suppresses_the_number() -> None:
    repos = memory_repositories()
    _asked_by_sms(repos)
    ports = ReplyPorts(sms=NoSms(), repos=repos)  # type: ignore[arg-type]

    answered = handle_reply(_reply("8", "in-1"), CONFIG, CATALOGUE, ports)
    repeated = handle_reply(_reply("8", "in-1"), CONFIG, CATALOGUE, ports)  # redelivered

    assert (answered.outcome, repeated.outcome) == ("answered", "duplicate")
    response = repos.responses.get("inv-1")
    assert response is not None and (response.scores, response.channel) == ({"nps": 8}, "sms")
    assert _counted(repos, "post-purchase#nps") == {"n": 1, "s8": 1}

    stopped = handle_reply(_reply("STOP", "in-2"), CONFIG, CATALOGUE, ports)
    assert stopped.outcome == "opted-out"
    assert suppressed_channels(repos.suppressions, {"sms": PHONE}) == {"sms": "stop-reply"}
