"""An HTTP client for the tools' APIs: rate limits kept, 429 and 5xx retried with backoff.

Each route has a rate limit (requests per second in a burst, per minute steady); the client spaces
its own requests to stay under both. A ``429`` answer is retried after its ``Retry-After`` header
(seconds or an HTTP date), else after an exponential backoff; a ``5xx`` answer or a transport error
is retried with exponential backoff (0.5 s, 1 s, 2 s ... capped at 30 s). Other ``4xx`` answers are
final. ``sleep`` and ``clock`` are injectable so tests run without waiting.
"""

from __future__ import annotations

import email.utils
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..models.errors import DeployError

__all__ = ["ApiClient", "DeployError", "RateLimit"]


@dataclass(frozen=True)
class RateLimit:
    """At most ``burst`` requests a second and ``steady`` a minute."""

    burst: int
    steady: int


@dataclass
class _Window:
    stamps: deque[float] = field(default_factory=deque)


class ApiClient:
    """Requests to one tool: base URL, headers, per-route rate limits, retries.

    Parameters
    ----------
    base_url
        The API's root (overridable for tests and self-hosted installs).
    headers
        Sent with every request (authentication, API revision).
    limits
        Rate limit per route name; a request names its route (default: ``"default"``).
    max_retries
        Retries of a 429, a 5xx or a transport error before giving up.
    sleep, clock
        ``time.sleep`` and ``time.monotonic`` unless given.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        limits: Mapping[str, RateLimit] | None = None,
        max_retries: int = 5,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = dict(limits or {})
        self.max_retries = max_retries
        self.sleep, self.clock = sleep, clock
        self.http = httpx.Client(
            base_url=self.base_url, headers=dict(headers or {}), timeout=timeout, transport=transport
        )
        self.windows: dict[str, _Window] = {}
        self.waits: list[tuple[str, float]] = []  # (why, seconds): what the client slept for

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, why: str, seconds: float) -> None:
        if seconds > 0:
            self.waits.append((why, seconds))
            self.sleep(seconds)

    def _pace(self, route: str) -> None:
        """Sleep until one more request on ``route`` stays under its burst and steady limits."""
        limit = self.limits.get(route)
        if limit is None:
            return
        window = self.windows.setdefault(route, _Window())
        for span, most in ((1.0, limit.burst), (60.0, limit.steady)):
            now = self.clock()
            recent = [t for t in window.stamps if now - t < span]
            if len(recent) >= most:
                self._wait(f"rate limit {route}", span - (now - recent[-most]))
        window.stamps.append(self.clock())
        while len(window.stamps) > max(limit.steady, limit.burst):
            window.stamps.popleft()

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time()) if when is not None else None

    def request(
        self,
        method: str,
        path: str,
        *,
        route: str = "default",
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON answer (None when empty).

        Raises
        ------
        DeployError
            A 4xx other than 429, or still failing after ``max_retries`` retries.
        """
        attempt = 0
        while True:
            self._pace(route)
            try:
                response = self.http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    msg = (
                        f"{method} {self.base_url}{path}: {exc} after {attempt} retries. Fix: check the "
                        "base URL and the network"
                    )
                    raise DeployError(msg) from exc
                self._wait(f"transport error {route}", min(30.0, 0.5 * 2**attempt))
                attempt += 1
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt >= self.max_retries:
                    msg = (
                        f"{method} {self.base_url}{path} answered {status} {response.text[:300]!r} after "
                        f"{attempt} retries. "
                        "Fix: try again later (the tool is rate limiting or failing)"
                    )
                    raise DeployError(msg)
                delay = self._retry_after(response) if status == 429 else None
                self._wait(f"{status} {route}", delay if delay is not None else min(30.0, 0.5 * 2**attempt))
                attempt += 1
                continue
            if status >= 400:
                msg = (
                    f"{method} {self.base_url}{path} answered {status}: {response.text[:500]}. "
                    "Fix: check the API key and the request named here"
                )
                raise DeployError(msg)
            if not response.content:
                return None
            return response.json()
