"""Survey pages and answers: a link opens the page (GET, read only: mail scanners fetch every
link); the form's POST stores the scores and comment.

Storing is all an answer does here. What it implies (the lifecycle's wait ends, Survey Response
Received is published, a detractor is escalated) follows from the stored response through the
responses table's stream (logic/outbox.py), so it happens even if this request fails right
after the commit, and the customer who answered always sees success."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from msgspec import Struct

from ..catalogue import Catalogue
from ..config import CollectConfig
from ..domain.invitations import Invitation, Invitations
from ..domain.repositories import Repositories
from ..domain.responses import Responses
from ..errors import InvalidAnswer, InvitationNotFound, SurveyClosed
from ..messages.i18n import text
from ..messages.rendering import (
    PageQuestion,
    render_closed_page,
    render_error_page,
    render_survey_page,
    render_thank_you_page,
)
from ..messages.safe_text import clean_text
from ..observability import correlate
from ..rules.scoring import ScoreOutOfRange, check_score
from ..tokens import is_well_formed_link_token
from .answers import Answered, accepts_answers, answer

MAX_COMMENT_LENGTH = 1000


class Page(Struct, frozen=True):
    status: int
    html: str
    answered: Answered | None = None  # set when this request stored an answer
    invitation_id: str | None = None  # the logs' correlation id; None: no invitation found


def find_invitation(token: str, invitations: Invitations) -> Invitation:
    """The invitation a link token belongs to, whatever its status."""
    if not is_well_formed_link_token(token):
        raise InvitationNotFound("malformed token")
    invitation = invitations.by_link_token(token)
    if invitation is None:
        raise InvitationNotFound("unknown token")
    # From here on, every log line of this request (an error too) carries the survey's id.
    correlate(invitation.invitation_id)
    return invitation


def open_invitation(token: str, now: datetime, invitations: Invitations) -> Invitation:
    """The invitation, if it still takes answers."""
    invitation = find_invitation(token, invitations)
    if not accepts_answers(invitation, now):
        raise SurveyClosed(invitation.status)
    return invitation


# A score as a person types it: ASCII digits, at most a sign and a few of them (str.isdigit
# also accepts superscripts and other scripts' digits that int() refuses).
_SCORE = re.compile(r"-?[0-9]{1,3}")


def parse_score(metric: str, raw: str | None) -> int:
    text = (raw or "").strip()
    if not _SCORE.fullmatch(text):
        raise InvalidAnswer("missing-score")
    try:
        return check_score(metric, int(text))
    except ScoreOutOfRange:
        raise InvalidAnswer("score-out-of-range") from None


def parse_comment(raw: str | None) -> str | None:
    """The comment as stored: without control or bidi-override characters, line breaks as
    "\\n" (safe_text.py), trimmed; at most MAX_COMMENT_LENGTH characters."""
    comment = clean_text(raw or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidAnswer("comment-too-long")
    return comment or None


def error_page(language: str, error: Exception, catalogue: Catalogue | None = None) -> Page:
    """The page for an error, in `language`, with the company's name and look when the
    catalogue is given."""
    statuses: dict[type[Exception], int] = {
        InvitationNotFound: 404,
        SurveyClosed: 410,
        InvalidAnswer: 400,
    }
    status = statuses.get(type(error), 500)
    company = catalogue.company if catalogue is not None else ""
    brand = catalogue.brand if catalogue is not None else None
    html = render_error_page(language=language, status=status, company=company, brand=brand)
    return Page(status, html)


def closed_page(invitation: Invitation, catalogue: Catalogue, responses: Responses) -> Page:
    """A survey that no longer takes answers, in the customer's language: an answered one says
    the answer was received."""
    html = render_closed_page(
        language=invitation.language,
        company=catalogue.company,
        answered=invitation.status == "answered"
        or responses.get(invitation.invitation_id) is not None,
        brand=catalogue.brand,
    )
    return Page(410, html, invitation_id=invitation.invitation_id)


PRIMARY_FIELD = "score"  # the first metric's field: also what a one-tap link chooses (?score=N)


def score_field(invitation: Invitation, metric: str) -> str:
    return PRIMARY_FIELD if metric == invitation.metric else f"score_{metric}"


def metrics_of(invitation: Invitation) -> list[str]:
    """The invitation's metrics, the first one (asked in the email and SMS) first."""
    metrics = [str(m) for m in (invitation.metrics or [])]
    return [invitation.metric, *(m for m in metrics if m != invitation.metric)]


def _survey_page(
    invitation: Invitation,
    catalogue: Catalogue,
    action_url: str,
    *,
    selected: Mapping[str, int],
    comment: str = "",
    error: str | None = None,
    link_choice: int | None = None,
    answered: bool = False,
) -> str:
    survey = catalogue.find(invitation.survey_id)
    questions = [
        PageQuestion(
            metric=metric,
            text=catalogue.question(invitation.survey_id, metric, invitation.language),
            field=score_field(invitation, metric),
            selected=selected.get(metric),
            # Only the first question is required: it is the one the survey is counted on.
            required=metric == invitation.metric,
        )
        for metric in metrics_of(invitation)
    ]
    return render_survey_page(
        language=invitation.language,
        questions=questions,
        company=catalogue.company,
        action_url=action_url,
        # A survey that left the catalogue while invitations were open still takes comments.
        ask_comment=survey.comment if survey is not None else True,
        comment=comment,
        error=error,
        link_choice=link_choice,
        answered=answered,
        brand=catalogue.brand,
    )


def link_choice(metric: str, raw: str | None) -> int | None:
    """The score a one-tap link chose (?score=N), or None when the link names no score on the
    metric's scale: a mangled link still opens the survey, with nothing chosen."""
    if raw is None:
        return None
    try:
        return parse_score(metric, raw)
    except InvalidAnswer:
        return None


def show_survey(
    token: str,
    score: str | None,
    action_url: str,
    config: CollectConfig,
    catalogue: Catalogue,
    repos: Repositories,
) -> Page:
    """GET: the survey page; it records nothing (mail security scanners open every link of an
    email, in order, seconds after delivery: DESIGN "No GET changes state"). A one-tap link
    (?score=N) opens it with N chosen and a send button right under the first question, so
    the customer's next tap, the POST, records it. Without a valid ?score the page shows the
    answer stored so far, if any, and says it was received (it can be changed while the survey
    is open). A survey that no longer takes answers gets a page saying so in the customer's
    language."""
    invitation = find_invitation(token, repos.invitations)
    if not accepts_answers(invitation, config.clock()):
        return closed_page(invitation, catalogue, repos.responses)
    response = repos.responses.get(invitation.invitation_id)
    selected = dict(response.scores) if response else {}
    comment = (response.comment or "") if response else ""
    chosen = link_choice(invitation.metric, score)
    if chosen is not None:
        selected[invitation.metric] = chosen
    html = _survey_page(
        invitation,
        catalogue,
        action_url,
        selected=selected,
        comment=comment,
        link_choice=chosen,
        answered=response is not None,
    )
    return Page(200, html, invitation_id=invitation.invitation_id)


def read_scores(invitation: Invitation, form: Mapping[str, str]) -> dict[str, int]:
    """The first question's score (required) and any other question answered."""
    scores = {invitation.metric: parse_score(invitation.metric, form.get(PRIMARY_FIELD))}
    for metric in metrics_of(invitation)[1:]:
        raw = form.get(score_field(invitation, metric))
        if raw is not None and raw.strip():
            scores[metric] = parse_score(metric, raw)
    return scores


def submit_survey(
    token: str,
    form: Mapping[str, str],
    action_url: str,
    config: CollectConfig,
    catalogue: Catalogue,
    repos: Repositories,
) -> Page:
    """POST: the scores and an optional comment; a bad form shows the page again with the
    reason and what the customer typed; a survey that closed meanwhile, a page saying so."""
    invitation = find_invitation(token, repos.invitations)
    if not accepts_answers(invitation, config.clock()):
        return closed_page(invitation, catalogue, repos.responses)
    try:
        scores = read_scores(invitation, form)
        comment = parse_comment(form.get("comment"))
    except InvalidAnswer as invalid:
        html = _survey_page(
            invitation,
            catalogue,
            action_url,
            selected={},
            comment=(form.get("comment") or "")[:MAX_COMMENT_LENGTH],
            error=text(invitation.language, f"error_{str(invalid).replace('-', '_')}"),
        )
        return Page(400, html, invitation_id=invitation.invitation_id)
    answered = answer(
        invitation,
        scores,
        comment,
        keep_comment=False,
        config=config,
        catalogue=catalogue,
        responses=repos.responses,
    )
    html = render_thank_you_page(
        language=invitation.language, company=catalogue.company, brand=catalogue.brand
    )
    return Page(200, html, answered, invitation.invitation_id)
