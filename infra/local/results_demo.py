"""The results view on the local stack: demo users (tools.users, with a known password: local
only), and a sign-in through the view's own local sign-in page, as a browser does it."""

from __future__ import annotations

import http.cookiejar
import os
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tools import users

# Local demo users only: moto's pool, on the loopback interface. Never a real account's.
DEMO_PASSWORD = "Demo-results-2026"  # noqa: S105 - the local stack's demo users' password


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    scope: str | None
    sees: str  # what they see, for the printout


DEMO_USERS = (
    DemoUser("admin@example.com", "cx-admin", None, "everything"),
    DemoUser("webshop.manager@example.com", "manager", "business_area=webshop", "the webshop"),
    DemoUser("agent.a17@example.com", "agent", "agent=a-17", "their own contacts (agent a-17)"),
)


def add_demo_users(info: dict[str, Any]) -> list[DemoUser]:
    """Add the demo users to the stack's pool (each once: an existing one is kept)."""
    from .stack import LOCAL_CREDENTIALS

    for name, value in LOCAL_CREDENTIALS.items():  # moto takes any; tools.users needs some
        os.environ.setdefault(name, value)
    added = []
    for user in DEMO_USERS:
        argv = ["add", user.email, "--role", user.role, "--password", DEMO_PASSWORD]
        argv += ["--scope", user.scope] if user.scope else []
        argv += ["--stack", info["stack_name"], "--region", info["region"]]
        argv += ["--endpoint-url", info["endpoint_url"]]
        if users.main(argv) in (0, 1):  # 1: there already
            added.append(user)
    return added


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def signed_in_page(
    info: dict[str, Any], email: str, path: str = "", password: str = DEMO_PASSWORD
) -> tuple[int, str]:
    """Sign in on the local sign-in page and open a page of the view: (status, HTML); the
    sign-in page's status when the sign-in is refused."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirects)
    base = str(info["results_url"])
    form = urlencode({"email": email, "password": password}).encode("utf-8")
    try:
        opener.open(f"{base}/sign-in", data=form, timeout=30)
    except urllib.error.HTTPError as answer:  # the 303 to the overview, with the cookie
        if answer.code != 303:
            return answer.code, answer.read().decode("utf-8", "replace")
    try:
        with opener.open(f"{base}{path}", timeout=30) as page:
            return int(page.status), page.read().decode("utf-8")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode("utf-8", "replace")


def how_to_sign_in(info: dict[str, Any]) -> str:
    lines = [f"  results view   {info['results_url']}   (password {DEMO_PASSWORD}):"]
    lines += [f"    {u.email:<30} {u.role:<9} sees {u.sees}" for u in DEMO_USERS]
    return "\n".join(lines)
