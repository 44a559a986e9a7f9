"""The user pool's signing keys (its JWKS), the only I/O of sign-in: a port, its HTTP adapter and
a per-process cache.

In the cloud the keys are at `<issuer>/.well-known/jwks.json`; on the local stack moto's server
serves them at `<endpoint>/<pool id>/.well-known/jwks.json` (jwks_url()). The cache fetches on
first use and again when a token names a kid it does not have (Cognito rotating its keys), at
most once per REFRESH_INTERVAL: a flood of tokens with made-up kids costs one fetch a minute.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

REFRESH_INTERVAL = 60.0  # seconds between fetches caused by unknown kids
FETCH_TIMEOUT = 3.0  # seconds; a page request must not hang on the key endpoint
MAX_BYTES = 64 * 1024  # a JWKS has a few keys of under 1 KB each


class KeysUnavailable(Exception):
    """The key endpoint could not be read (or gave no JWKS): sign-in cannot be checked now."""


class KeySource(Protocol):
    def fetch(self) -> list[dict[str, Any]]:
        """The pool's JWKS `keys`."""
        ...


def jwks_url(issuer: str, endpoint_url: str | None = None) -> str:
    """Where the keys are: the issuer's well-known path, or moto's on a local endpoint."""
    if endpoint_url:
        pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
        return f"{endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    return f"{issuer.rstrip('/')}/.well-known/jwks.json"


class HttpKeySource:
    """GET the JWKS over HTTPS (plain HTTP only to the loopback address of the local stack)."""

    def __init__(self, url: str, timeout: float = FETCH_TIMEOUT) -> None:
        if not (url.startswith("https://") or url.startswith("http://127.0.0.1:")):
            raise ValueError("the JWKS URL must be https (or the local stack's 127.0.0.1)")
        self.url = url
        self.timeout = timeout

    def fetch(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read(MAX_BYTES + 1)
        except OSError as error:  # URLError, timeouts, refused connections
            raise KeysUnavailable(f"JWKS not read ({type(error).__name__})") from None
        return parse_jwks(body)


def parse_jwks(body: bytes | str) -> list[dict[str, Any]]:
    if len(body) > MAX_BYTES:
        raise KeysUnavailable("JWKS too large")
    try:
        document = json.loads(body)
    except ValueError:
        raise KeysUnavailable("JWKS is not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise KeysUnavailable("JWKS has no keys list")
    return keys


class KeySet:
    """kid -> JWK, per process; `get` is what identity.verify_id_token takes as `keys`."""

    def __init__(
        self,
        source: KeySource,
        *,
        refresh_interval: float = REFRESH_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._interval = refresh_interval
        self._monotonic = monotonic
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> Mapping[str, Any] | None:
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._refresh()
            return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._monotonic() - self._fetched_at >= self._interval

    def _refresh(self) -> None:
        # Counted as a fetch even when it fails: an unreachable endpoint is not hammered either.
        self._fetched_at = self._monotonic()
        keys = self._source.fetch()
        self._keys = {str(k["kid"]): k for k in keys if isinstance(k.get("kid"), str)}
