"""The doors in front of Gradio's routes (ASGI middleware, before the queue).

PublicGuard (the senior page and the staff room): only the allow-listed functions, a size cap,
a rate limit per browser session with a higher per-IP ceiling, a few queue places per address,
typed emergencies never limited, and "稍等" instead of Gradio's 503 when the queue is nearly full. DeskGuard (the content desk):
same-origin checks, a lockout after failed logins, sessions that expire, SameSite=Strict cookies.

A refusal is HTTP 413/429/404/403 with JSON {"detail": <calm Chinese>, "kind": <kind>}; Gradio's
page shows `detail` (it shows its own English text for a 503, so none is used). The client
address is uvicorn's: it believes X-Forwarded-For only from BOT_TRUSTED_PROXIES (see trust_env).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from bot.reply.safety import is_emergency
from bot.web.ratelimit import RateLimiter

if TYPE_CHECKING:
    from starlette.middleware import Middleware

    from bot.config import Settings

log = logging.getLogger("silverguard.guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API = "/gradio_api"
TOO_FAST = "您问得有点快了，请歇一歇，过一分钟再问。"
TOO_LONG = "您的消息太长了，请只问最想知道的一句话。如果已经转账，请马上打110报警。"
BUSY = "系统有点忙，请稍等几秒再问。如果已经转账，请马上打110报警。"
NOT_FOUND = "没有这个功能。"
CROSS_SITE = "请从内容管理台的页面操作（跨站请求已拒绝）。"
LOCKED = "密码错误次数太多，请 {minutes} 分钟后再试。"
# A refused flood waits this long for its answer: no CPU is spent while it waits, and a client
# asking again the moment it is refused would otherwise keep the event loop (and the GIL the
# answers need) busy with refusals. An address refused more than REFUSALS_BEFORE_SLOW times a
# minute waits ten times as long: one senior refused now and then still hears back in a second.
REFUSAL_DELAY_S = 1.0
REFUSALS_BEFORE_SLOW = 30
# Typed emergencies pass every limit up to these a minute (a senior in trouble types a few;
# a flood that words every question as one does not get past them); beyond, an emergency is
# counted like any question. The red button and the page's own card are never limited.
EMERGENCIES_PER_SESSION = 10
EMERGENCIES_PER_IP = 60


@dataclass(frozen=True)
class Refusal:
    """A request turned away before it reaches Gradio."""

    status: int
    kind: str
    detail: str
    retry_after: int = 0
    delay: bool = False  # answered after REFUSAL_DELAY_S: what a flood gets, again and again


def trust_env(trusted_proxies: Collection[str]) -> None:
    """Make uvicorn believe X-Forwarded-For only from these addresses (none by default).

    uvicorn trusts loopback unless FORWARDED_ALLOW_IPS says otherwise; Gradio builds the uvicorn
    config itself, so the environment is the one way in. Call it before launch().
    """
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(p.strip() for p in trusted_proxies if p.strip())


def client_ip(scope: Scope) -> str:
    """The client's address as uvicorn resolved it (a trusted proxy's X-Forwarded-For)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def respond(send: Send, refusal: Refusal) -> None:
    """Send the refusal as JSON: no traceback, no Gradio page."""
    body = json.dumps({"detail": refusal.detail, "kind": refusal.kind}, ensure_ascii=False)
    raw = [(b"content-type", b"application/json; charset=utf-8")]
    if refusal.retry_after:
        raw.append((b"retry-after", str(refusal.retry_after).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": raw})
    await send({"type": "http.response.body", "body": body.encode("utf-8")})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes `limit` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the app the body already read, then the real channel."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1")
    return None


# ---------------------------------------------------------------- fair sharing


class SessionLimiter:
    """A sliding window per browser session, and a higher one per client address."""

    def __init__(self, per_session: int, per_ip: int, window: float = 60.0) -> None:
        self.sessions = RateLimiter(per_session, window)
        self.ips = RateLimiter(per_ip, window)
        self._lock = threading.Lock()

    def allow(self, session: str, ip: str, now: float | None = None) -> bool:
        """Record one request; False when its session or its address is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            # The session first: one busy tab stops at its own limit without using up the
            # branch's ceiling; a flood of fresh session ids stops at the address's ceiling.
            return self.sessions.allow(f"{ip} {session}", now) and self.ips.allow(ip, now)


def _named(name: str, allowed: Collection[str]) -> bool:
    """Gradio names a second handler of the same name `name_1`, `name_2`, …"""
    return name in allowed or re.sub(r"_\d+$", "", name) in allowed


class PublicGuard:
    """Allow-list, size cap, fair rate limit and busy answer for the public port."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        blocks: Any,
        allowed_api: Collection[str],
        unlimited_api: Collection[str] = (),
        limiter: SessionLimiter,
        max_body_bytes: int = 256_000,
        max_message_chars: int = 2_000,
        busy_reserve: int = 16,
        per_ip_waiting: int = 8,
        refusal_delay_s: float = REFUSAL_DELAY_S,
    ) -> None:
        self.app = app
        self.blocks = blocks
        self.allowed_api = frozenset(allowed_api)
        self.unlimited_api = frozenset(unlimited_api)
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.max_message_chars = max_message_chars
        self.busy_reserve = busy_reserve
        self.per_ip_waiting = per_ip_waiting
        self.refusal_delay_s = refusal_delay_s
        self._admitting: Counter[str] = Counter()  # passed the guard, not yet in Gradio's queue
        self._refused = RateLimiter(REFUSALS_BEFORE_SLOW)
        self._emergencies = SessionLimiter(EMERGENCIES_PER_SESSION, EMERGENCIES_PER_IP)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        route = _api_route(path)
        if route is None:
            return await self.app(scope, receive, send)
        kind, name = route
        if kind == "other":
            return await respond(send, Refusal(404, "not_found", NOT_FOUND))
        length = declared_length(scope)
        if length is not None and length > self.max_body_bytes:
            return await respond(send, Refusal(413, "too_long", TOO_LONG))
        if kind == "pass":
            return await self.app(scope, receive, send)
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            return await respond(send, Refusal(413, "too_long", TOO_LONG))
        ip = client_ip(scope)
        refusal = self.check(kind, name, body, ip)
        if refusal is not None:
            if refusal.delay and self.refusal_delay_s:
                slow = not self._refused.allow(ip)
                await asyncio.sleep(self.refusal_delay_s * (10 if slow else 1))
            return await respond(send, refusal)
        self._admitting[ip] += 1
        try:
            await self.app(scope, replay(body, receive), send)  # returns once the call is queued
        finally:
            self._admitting[ip] -= 1
            if self._admitting[ip] <= 0:
                del self._admitting[ip]

    def check(self, kind: str, name: str | None, body: bytes, ip: str) -> Refusal | None:
        """Why this call may not go on (None: it may)."""
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return Refusal(400, "bad_request", NOT_FOUND)
        if not isinstance(payload, dict):
            return Refusal(400, "bad_request", NOT_FOUND)
        fn = self._function(kind, name, payload)
        if fn is None or getattr(fn, "fn", None) is None:
            return Refusal(404, "not_found", NOT_FOUND)
        api_name = str(getattr(fn, "api_name", "") or "")
        if not _named(api_name, self.allowed_api):
            return Refusal(404, "not_found", NOT_FOUND)
        if kind == "run" and getattr(fn, "queue", True):
            return Refusal(404, "not_found", NOT_FOUND)  # a queued function skips no queue
        data = payload.get("data")
        texts = [d for d in data if isinstance(d, str)] if isinstance(data, list) else []
        if any(len(t) > self.max_message_chars for t in texts):
            return Refusal(413, "too_long", TOO_LONG)
        if _named(api_name, self.unlimited_api):
            return None
        session = payload.get("session_hash")
        session = session[:64] if isinstance(session, str) and session else "-"
        if any(is_emergency(t) for t in texts) and self._emergencies.allow(session, ip):
            return None  # a typed emergency is not limited, and the last queue places are its
        if kind != "run" and self._waiting(ip) >= self.per_ip_waiting:
            # One address holds at most this many places in the queue, so whatever it sends,
            # another client's question waits behind a few of its questions, not hundreds.
            return Refusal(429, "busy", BUSY, retry_after=5, delay=True)
        if not self.limiter.allow(session, ip):
            return Refusal(429, "too_fast", TOO_FAST, retry_after=60, delay=True)
        if kind != "run" and self._nearly_full():
            return Refusal(429, "busy", BUSY, retry_after=5)
        return None

    def _function(self, kind: str, name: str | None, payload: dict) -> Any:
        fns = getattr(self.blocks, "fns", {})
        index = payload.get("fn_index")
        if kind == "join" or (kind == "run" and index is not None):
            if isinstance(index, bool) or not isinstance(index, int):
                return None
            return fns.get(index)
        return next((f for f in fns.values() if f.api_name == name), None)

    def _waiting(self, ip: str) -> int:
        """Calls from this address waiting in Gradio's queue (or on their way into it)."""
        queues = getattr(getattr(self.blocks, "_queue", None), "event_queue_per_concurrency_id", {})
        waiting = self._admitting[ip]
        for events in list(queues.values()):
            for event in list(getattr(events, "queue", ())):
                client = getattr(getattr(event, "request", None), "client", None)
                waiting += getattr(client, "host", None) == ip
        return waiting

    def _nearly_full(self) -> bool:
        queue = getattr(self.blocks, "_queue", None)
        size = getattr(queue, "max_size", None)
        if queue is None or not size:
            return False
        # The last places stay free for typed emergencies.
        return len(queue) >= max(1, size - self.busy_reserve)


def _api_route(path: str) -> tuple[str, str | None] | None:
    """(kind, api name) of a POST under /gradio_api; None for anything else."""
    if not path.startswith(API + "/"):
        return None
    rest = path[len(API) + 1 :].rstrip("/")
    if rest == "queue/join":
        return "join", None
    parts = rest.split("/")
    if len(parts) == 2 and parts[0] == "call":
        return "call", parts[1]
    if len(parts) == 3 and parts[:2] == ["call", "v2"]:
        return "call", parts[2]
    if len(parts) == 2 and parts[0] in ("run", "api"):
        return "run", parts[1]
    if rest in ("cancel", "reset", "upload"):
        return "pass", None  # Gradio's own housekeeping; upload is off (max_file_size=0)
    return "other", None


# ---------------------------------------------------------------- the desk


class LoginLockout:
    """After `attempts` failed logins an account waits `wait_s` seconds (memory bounded)."""

    def __init__(self, attempts: int = 5, wait_s: float = 900.0, max_accounts: int = 1000) -> None:
        self.attempts = attempts
        self.wait_s = wait_s
        self.max_accounts = max_accounts
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # name -> (n, until)
        self._lock = threading.Lock()

    def locked_for(self, account: str, now: float | None = None) -> float:
        """Seconds the account must still wait (0: it may try)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            _, until = self._failures.get(account, (0, 0.0))
            return max(0.0, until - now)

    def failed(self, account: str, now: float | None = None) -> bool:
        """Record a failure; True when this one locks the account."""
        now = time.monotonic() if now is None else now
        with self._lock:
            count, until = self._failures.pop(account, (0, 0.0))
            if until and until <= now:
                count = 0  # the wait is over: five fresh tries
            count += 1
            locks = count >= self.attempts
            self._failures[account] = (count, now + self.wait_s if locks else 0.0)
            while len(self._failures) > self.max_accounts:
                self._failures.popitem(last=False)
            return locks

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(account, None)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


_COOKIE_TOKEN = re.compile(r"access-token(?:-unsecure)?-[^=;\s]+=([^;\s]+)")
_SAMESITE = re.compile(rb";\s*samesite=[a-z]+", re.IGNORECASE)


class DeskGuard:
    """Same-origin checks, login lockout, session expiry and SameSite=Strict for the desk."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_origins: Collection[str] = (),
        lockout: LoginLockout,
        session_s: float = 8 * 3600.0,
    ) -> None:
        self.app = app
        self.allowed_origins = {o.strip().rstrip("/").lower() for o in allowed_origins if o}
        self.lockout = lockout
        self.session_s = session_s
        self._sessions: dict[str, float] = {}  # token -> when it was issued

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if not self.same_origin(scope):
            log.warning("desk: cross-site %s %s refused", scope.get("method"), scope.get("path"))
            return await respond(send, Refusal(403, "cross_site", CROSS_SITE))
        self._expire(scope)
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/") == "/login":
            return await self._login(scope, receive, send)
        await self.app(scope, receive, _strict_cookies(send))

    def same_origin(self, scope: Scope) -> bool:
        """False for a browser request sent from another site's page."""
        origin = header(scope, b"origin")
        if origin is None and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            referer = header(scope, b"referer")
            origin = _origin_of(referer) if referer else None
        if origin is None:
            return True  # not a browser's cross-site request (a browser sends Origin on those)
        origin = origin.strip().rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = (header(scope, b"host") or "").lower()
        return bool(host) and urlsplit(origin).netloc == host

    def _expire(self, scope: Scope) -> None:
        """A token older than the session length is forgotten (Gradio then asks to log in)."""
        cookies = header(scope, b"cookie") or ""
        now = time.monotonic()
        for token in _COOKIE_TOKEN.findall(cookies):
            issued = self._sessions.get(token)
            if issued is not None and now - issued > self.session_s:
                self._sessions.pop(token, None)
                tokens = getattr(scope.get("app"), "tokens", None)
                if isinstance(tokens, dict):
                    tokens.pop(token, None)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, 16_384)
        if body is None:
            return await respond(send, Refusal(413, "too_long", "请求太大。"))
        form = parse_qs(body.decode("utf-8", "replace"))
        account = (form.get("username") or [""])[0].strip()[:100]
        wait = self.lockout.locked_for(account)
        if wait:
            log.warning("desk: login to locked account %r refused", account)
            minutes = max(1, round(wait / 60))
            return await respond(send, Refusal(429, "locked", LOCKED.format(minutes=minutes), 60))
        status = 0
        tokens: list[str] = []

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"set-cookie":
                        tokens.extend(_COOKIE_TOKEN.findall(value.decode("latin-1")))
            await send(message)

        await self.app(scope, replay(body, receive), _strict_cookies(watch))
        if status == 200 and tokens:
            self.lockout.succeeded(account)
            now = time.monotonic()
            self._sessions = {
                t: at for t, at in self._sessions.items() if now - at <= self.session_s
            }
            self._sessions.update(dict.fromkeys(tokens, now))
            log.info("desk: %r logged in", account)
        elif status in (400, 401, 403):
            if self.lockout.failed(account):
                log.warning(
                    "desk: account %r locked after %d failed logins", account, self.lockout.attempts
                )
            else:
                log.info("desk: failed login for %r", account)


def _strict_cookies(send: Send) -> Send:
    """Every cookie the desk sets is SameSite=Strict: no other site's page can use it."""

    async def strict(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message.get("headers", ()):
                if name.lower() == b"set-cookie":
                    value = _SAMESITE.sub(b"", value) + b"; SameSite=strict"
                headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return strict


# ---------------------------------------------------------------- wiring


def listed(value: str) -> list[str]:
    """A comma-separated setting as a list ("" -> [])."""
    return [item.strip() for item in value.split(",") if item.strip()]


def public_middleware(
    settings: Settings, blocks: Any, allowed_api: Collection[str], unlimited_api: Collection[str]
) -> Middleware:
    """The public port's guard, for launch(app_kwargs={"middleware": [...]})."""
    from starlette.middleware import Middleware

    limiter = SessionLimiter(settings.rate_limit_per_minute, settings.rate_limit_per_ip_per_minute)
    return Middleware(
        PublicGuard,
        blocks=blocks,
        allowed_api=allowed_api,
        unlimited_api=unlimited_api,
        limiter=limiter,
        max_body_bytes=settings.max_request_bytes,
        max_message_chars=settings.max_message_chars,
        per_ip_waiting=settings.queue_per_ip,
    )


def desk_middleware(settings: Settings) -> Middleware:
    """The desk's guard, for launch(app_kwargs={"middleware": [...]})."""
    from starlette.middleware import Middleware

    lockout = LoginLockout(settings.admin_lockout_attempts, settings.admin_lockout_minutes * 60)
    return Middleware(
        DeskGuard,
        allowed_origins=listed(settings.admin_origins),
        lockout=lockout,
        session_s=settings.admin_session_hours * 3600,
    )
