"""The results view's segments, follow-up queue, task and "my feedback" pages on the template's
stack in moto: what each role reaches, what an edited URL reaches (nothing outside the scope),
and the one write, a manager's outcome of a callback task (CSRF token and Origin checked)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration import test_results_app, test_results_sign_in
from tests.integration.test_report import _answered
from tests.integration.test_results_app import ADMIN, ORIGIN, _get, _session, _sign_in
from tests.integration.test_results_sign_in import AGENT, MANAGER

pytestmark = pytest.mark.integration

# The results app with its users, and the pool's keys it reads (fixtures of the sign-in tests).
results = test_results_app.results
moto_keys = test_results_sign_in.moto_keys

WEBSHOP_TASK = "a" * 32  # an agent a-17's contact in the web shop
STORE_TASK = "b" * 32  # another agent's, in the stores


def _task(deployment: Deployment, invitation_id: str, area: str, agent: str) -> None:
    """An open callback task made on 16 Nov 2026 with a 24 h SLA: overdue now."""
    deployment.client("dynamodb").put_item(
        TableName=deployment.physical_id("EscalationsTable"),
        Item={
            "invitation_id": {"S": invitation_id},
            "survey_id": {"S": "post-purchase"},
            "metric": {"S": "nps"},
            "score": {"N": "2"},
            "segment": {"M": {"businessArea": {"S": area}, "agentId": {"S": agent}}},
            "status": {"S": "created"},
            "sla_hours": {"N": "24"},
            "escalated_at": {"S": "2026-11-16T10:00:00+00:00"},
            "open_survey": {"S": "post-purchase"},
            "open_due_at": {"S": "2026-11-17T10:00:00+00:00"},
            "outcome": {"S": "open"},
            "created_at": {"S": "2026-11-16T10:00:00+00:00"},
            "updated_at": {"S": "2026-11-16T10:00:00+00:00"},
        },
    )


@pytest.fixture
def tasks(deployment: Deployment) -> None:
    _task(deployment, WEBSHOP_TASK, "webshop", "a-17")
    _task(deployment, STORE_TASK, "store", "a-18")


def _csrf(page: Any) -> str:
    [token] = set(re.findall(r'name="csrf" value="([^"]+)"', page.body.decode()))
    return token


def _post(client: Any, path: str, cookie: str, form: dict[str, str], origin: str | None) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    if origin:
        headers["Origin"] = origin
    return client.http.post(path, headers=headers, body=urlencode(form))


def test_the_queue_lists_the_scopes_open_tasks_overdue_with_their_state(
    results: Any,
    tasks: None,
) -> None:
    with Client(results.app) as client:
        manager = _session(_sign_in(client, MANAGER))
        admin = _session(_sign_in(client, ADMIN))
        own = _get(client, "/results/follow-up", manager).body.decode()
        other = _get(client, "/results/follow-up?scope=businessArea%3Dstore", manager)
        everything = _get(client, "/results/follow-up", admin).body.decode()
    assert WEBSHOP_TASK in own and STORE_TASK not in own
    assert "Myöhässä" in own or "Overdue" in own  # the deadline passed
    assert other.status_code == 403 and WEBSHOP_TASK not in other.body.decode()
    assert WEBSHOP_TASK in everything and STORE_TASK in everything


def test_a_task_outside_the_scope_is_not_found_and_an_agent_records_nothing(
    results: Any,
    tasks: None,
) -> None:
    with Client(results.app) as client:
        manager = _session(_sign_in(client, MANAGER))
        agent = _session(_sign_in(client, AGENT))
        others = _get(client, f"/results/follow-up/{STORE_TASK}", manager)
        unknown = _get(client, f"/results/follow-up/{'c' * 32}", manager)
        not_an_id = _get(client, "/results/follow-up/..%2Fsecrets", manager)
        own_page = _get(client, f"/results/follow-up/{WEBSHOP_TASK}", agent)
        agents_other = _get(client, f"/results/follow-up/{STORE_TASK}", agent)
        form = {"csrf": _csrf(own_page), "outcome": "resolved"}
        agent_post = _post(client, f"/results/follow-up/{WEBSHOP_TASK}", agent, form, ORIGIN)
    assert [others.status_code, unknown.status_code, agents_other.status_code] == [404] * 3
    assert not_an_id.status_code == 404
    assert own_page.status_code == 200
    assert '<form method="post" action="' not in own_page.body.decode().split("sign-out")[1]
    assert agent_post.status_code == 403


def test_a_manager_records_an_outcome_only_with_the_sessions_token_from_its_origin(
    results: Any,
    tasks: None,
    deployment: Deployment,
) -> None:
    path = f"/results/follow-up/{WEBSHOP_TASK}"
    with Client(results.app) as client:
        manager = _session(_sign_in(client, MANAGER))
        csrf = _csrf(_get(client, path, manager))
        form = {"csrf": csrf, "outcome": "resolved", "note": "Soitettu, hyvitys\r\nsovittu"}
        cross_site = _post(client, path, manager, form, "https://evil.example")
        no_token = _post(client, path, manager, {**form, "csrf": ""}, ORIGIN)
        bad_outcome = _post(client, path, manager, {**form, "outcome": "deleted"}, ORIGIN)
        too_long = _post(client, path, manager, {**form, "note": "x" * 501}, ORIGIN)
        before = deployment.client("dynamodb").get_item(
            TableName=deployment.physical_id("EscalationsTable"),
            Key={"invitation_id": {"S": WEBSHOP_TASK}},
        )["Item"]
        saved = _post(client, path, manager, form, ORIGIN)
        shown = _get(client, f"{path}?saved=1", manager).body.decode()
        other_area = _post(client, f"/results/follow-up/{STORE_TASK}", manager, form, ORIGIN)
    assert [cross_site.status_code, no_token.status_code] == [403, 403]
    assert [bad_outcome.status_code, too_long.status_code] == [400, 400]
    assert "recorded_outcome" not in before  # nothing refused was written
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"{path}?saved=1")
    assert 'role="status"' in shown and "Soitettu, hyvitys\nsovittu" in shown
    assert other_area.status_code == 404
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("EscalationsTable"),
        Key={"invitation_id": {"S": WEBSHOP_TASK}},
    )["Item"]
    assert item["recorded_outcome"] == {"S": "resolved"}
    assert item["recorded_by"]["S"] and "@" not in item["recorded_by"]["S"]  # the sub, no email
    store_item = deployment.client("dynamodb").get_item(
        TableName=deployment.physical_id("EscalationsTable"),
        Key={"invitation_id": {"S": STORE_TASK}},
    )["Item"]
    assert "recorded_outcome" not in store_item


def test_segments_link_to_every_page_filtered_and_a_scoped_viewer_gets_no_links(
    results: Any,
    deployment: Deployment,
) -> None:
    _answered(deployment, customers=3)
    with Client(results.app) as client:
        admin = _session(_sign_in(client, ADMIN))
        manager = _session(_sign_in(client, MANAGER))
        page = _get(client, "/results/segments?period=quarter", admin).body.decode()
        links = re.findall(r'<a href="([^"]+\?[^"]*scope=businessArea%3D[^"]+)"', page)
        clicked = "/results" + html.unescape(links[0]).split("/results", 1)[1]
        filtered = _get(client, clicked, admin).body.decode()
        scoped = _get(client, "/results/segments?period=quarter", manager)
        refused = _get(client, "/results/segments?scope=businessArea%3Dstore", manager)
        unknown = _get(client, "/results/segments?attribute=customerId", admin)
    assert links and all("period=quarter" in link for link in links)
    # the clicked segment is the filter of every page: selected, and in every page's link
    assert re.search(r'<option value="businessArea=[^"]+" selected>', filtered)
    nav = re.findall(r'href="([^"]+/(?:segments|comments|follow-up)[^"]*)"', filtered)
    assert nav and all("scope=businessArea" in link for link in nav)
    assert scoped.status_code == 200 and "scope=" not in scoped.body.decode().split("<h1")[1]
    assert refused.status_code == 403 and unknown.status_code == 400


def test_my_feedback_is_an_agents_page_with_their_team_beside_them(
    results: Any,
) -> None:
    with Client(results.app) as client:
        agent = _session(_sign_in(client, AGENT))
        manager = _session(_sign_in(client, MANAGER))
        mine = _get(client, "/results/mine", agent)
        edited = _get(client, "/results/mine?scope=agentId%3Da-18", agent)
        not_an_agent = _get(client, "/results/mine", manager)
        agents_overview = _get(client, "/results", agent).body.decode()
    assert mine.status_code == 200 and 'aria-current="page"' in mine.body.decode()
    assert edited.status_code == 403 and not_an_agent.status_code == 403
    assert "/results/mine" in agents_overview  # the agent's bar leads to their own page
