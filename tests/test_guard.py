"""The doors in front of Gradio (bot/web/guard.py): unit tests on a stand-in app, then over HTTP.

The HTTP tests start the real app on loopback and talk to it from several loopback source
addresses (127.0.0.x) so that "another client" is another address, as another branch would be.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from helpers import TINY, running_app, write_lesson
from starlette.testclient import TestClient

from bot.web import guard
from bot.web.guard import BUSY, TOO_FAST, TOO_LONG, DeskGuard, LoginLockout, PublicGuard

EMERGENCY_Q = "我已经把钱转过去了，怎么办"
POLICE_Q = "公安局打电话说我洗钱"
CARD_START = "先别慌"


# ---------------------------------------------------------------- a stand-in Gradio


@dataclass
class Fn:
    api_name: str
    fn: Any = print
    queue: bool = True


@dataclass
class Queue:
    max_size: int = 20
    waiting: int = 0
    event_queue_per_concurrency_id: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.waiting


@dataclass
class Blocks:
    fns: dict = field(
        default_factory=lambda: {
            0: Fn("chat"),
            1: Fn("handler_3"),
            2: Fn("emergency", queue=False),
            3: Fn("js_fn", fn=None),
            4: Fn("secret_tool"),
        }
    )
    _queue: Queue = field(default_factory=Queue)


async def gradio(scope, receive, send):
    """Answers every call as Gradio would accept it (the guard decides what reaches it)."""
    while (await receive()).get("more_body"):
        pass
    cookie = [(b"set-cookie", b"access-token-x=tok1; HttpOnly; Path=/; SameSite=none; Secure")]
    await send({"type": "http.response.start", "status": 200, "headers": cookie})
    await send({"type": "http.response.body", "body": b'{"event_id": "e1"}'})


def public(blocks: Blocks | None = None, per_session: int = 2, per_ip: int = 4) -> TestClient:
    app = PublicGuard(
        gradio,
        blocks=blocks or Blocks(),
        allowed_api=("chat", "handler", "emergency"),
        unlimited_api=("emergency",),
        limiter=guard.SessionLimiter(per_session, per_ip),
        max_body_bytes=10_000,
        max_message_chars=500,
        busy_reserve=4,
        refusal_delay_s=0,
    )
    return TestClient(app, raise_server_exceptions=True)


def join(client: TestClient, fn_index: Any, text: str = "你好", session: str = "s1"):
    body = {"data": [text, []], "fn_index": fn_index, "session_hash": session}
    return client.post("/gradio_api/queue/join", json=body)


def test_allow_listed_functions_pass_and_repeats_of_a_name_count_as_it():
    client = public()
    assert join(client, 0).status_code == 200
    assert join(client, 1, session="s2").status_code == 200  # handler_3 is a `handler`
    named = client.post("/gradio_api/call/chat", json={"data": ["你好", []]})
    assert named.status_code == 200


@pytest.mark.parametrize("fn_index", [3, 4, 99, "0", None, True, -1])
def test_anything_not_on_the_list_is_404_without_a_traceback(fn_index):
    r = join(public(), fn_index)
    assert r.status_code == 404
    assert r.json()["kind"] == "not_found"
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    "path",
    ["/gradio_api/call/secret_tool", "/gradio_api/call/nope", "/gradio_api/run/chat",
     "/gradio_api/api/chat", "/gradio_api/call/v2/nope", "/gradio_api/vibe-edit",
     "/gradio_api/process_recording"],
)  # fmt: skip
def test_unknown_names_queued_functions_by_run_and_other_routes_are_404(path):
    r = public().post(path, json={"data": ["你好"]})
    assert r.status_code == 404, r.text
    assert "Traceback" not in r.text


def test_a_queue_free_function_may_be_run_directly():
    client = public()
    body = {"data": [[]], "fn_index": 2, "session_hash": "s1"}
    assert client.post("/gradio_api/run/predict", json=body).status_code == 200
    assert client.get("/").status_code == 200  # pages and GETs are not the guard's


def test_a_session_is_limited_and_the_address_has_a_higher_ceiling():
    client = public(per_session=2, per_ip=4)
    assert [join(client, 0, session="a").status_code for _ in range(3)] == [200, 200, 429]
    refused = join(client, 0, session="a")
    assert refused.json()["detail"] == TOO_FAST
    assert refused.headers["retry-after"] == "60"
    # other tabs on the same address go on until the address's ceiling
    assert [join(client, 0, session=s).status_code for s in "bcd"] == [200, 200, 429]


def test_a_typed_emergency_passes_at_the_limit_and_when_the_queue_is_nearly_full():
    blocks = Blocks()
    client = public(blocks, per_session=1, per_ip=1)
    assert join(client, 0).status_code == 200
    assert join(client, 0).status_code == 429
    assert join(client, 0, text=EMERGENCY_Q).status_code == 200
    assert join(client, 0, text=EMERGENCY_Q, session="new").status_code == 200
    red = {"data": [[]], "fn_index": 2, "session_hash": "s1"}
    assert client.post("/gradio_api/run/predict", json=red).status_code == 200


def test_a_flood_worded_as_emergencies_is_counted_like_questions_past_a_generous_share():
    client = public(per_session=100, per_ip=100)
    passed = [join(client, 0, text=EMERGENCY_Q, session=f"s{i}").status_code for i in range(70)]
    assert passed[: guard.EMERGENCIES_PER_IP] == [200] * guard.EMERGENCIES_PER_IP
    client = public(per_session=1, per_ip=1)
    sessions = [f"t{i}" for i in range(guard.EMERGENCIES_PER_IP + 2)]
    codes = [join(client, 0, text=EMERGENCY_Q, session=s).status_code for s in sessions]
    assert codes[: guard.EMERGENCIES_PER_IP] == [200] * guard.EMERGENCIES_PER_IP
    assert codes[guard.EMERGENCIES_PER_IP :] == [200, 429]  # then the ordinary limits apply


def test_beyond_capacity_a_calm_wait_comes_at_once_and_emergencies_keep_the_last_places():
    blocks = Blocks()
    blocks._queue.waiting = 16  # of 20, 4 kept for emergencies
    client = public(blocks, per_session=100, per_ip=100)
    started = time.monotonic()
    busy = join(client, 0)
    assert time.monotonic() - started < 0.5
    assert busy.status_code == 429  # not 503: Gradio's page shows its own English text for that
    assert busy.json() == {"detail": BUSY, "kind": "busy"}
    assert join(client, 0, text=EMERGENCY_Q).status_code == 200
    blocks._queue.waiting = 15
    assert join(client, 0).status_code == 200


def test_one_address_holds_only_a_few_places_in_the_queue():
    from types import SimpleNamespace as NS

    def waiting_from(host: str) -> NS:
        return NS(request=NS(client=NS(host=host)))

    blocks = Blocks()
    events = [waiting_from("testclient") for _ in range(2)] + [waiting_from("10.0.0.9")] * 5
    blocks._queue.event_queue_per_concurrency_id = {"default": NS(queue=events)}
    app = PublicGuard(
        gradio,
        blocks=blocks,
        allowed_api=("chat",),
        limiter=guard.SessionLimiter(100, 100),
        per_ip_waiting=3,
        refusal_delay_s=0,
    )
    client = TestClient(app)  # its address is "testclient"
    assert join(client, 0).status_code == 200  # 2 of its calls waiting: a third may join
    events.append(waiting_from("testclient"))
    busy = join(client, 0, session="other-tab")
    assert busy.status_code == 429
    assert busy.json() == {"detail": BUSY, "kind": "busy"}
    assert join(client, 0, text=EMERGENCY_Q).status_code == 200


def test_an_oversize_question_or_body_is_refused_with_the_calm_message():
    client = public()
    long = join(client, 0, text="啊" * 501)
    assert long.status_code == 413
    assert long.json()["detail"] == TOO_LONG
    body = json.dumps({"data": ["x" * 20_000], "fn_index": 0, "session_hash": "s"})
    big = client.post("/gradio_api/queue/join", content=body)
    assert big.status_code == 413
    assert big.json()["detail"] == TOO_LONG


def test_housekeeping_routes_pass_but_not_an_oversize_upload():
    client = public()
    assert client.post("/gradio_api/cancel", json={"session_hash": "s1"}).status_code == 200
    files = {"files": ("big.txt", b"x" * 20_000, "text/plain")}
    assert client.post("/gradio_api/upload", files=files).status_code == 413


def test_a_body_that_is_not_json_is_refused():
    r = public().post("/gradio_api/queue/join", content=b"{not json")
    assert r.status_code == 400
    assert "Traceback" not in r.text


# ---------------------------------------------------------------- the desk, stand-in


@dataclass
class GradioApp:
    tokens: dict = field(default_factory=dict)


def desk(tokens: dict | None = None, session_s: float = 3600.0, password: str = "right"):
    """DeskGuard over a stand-in login: 'right' logs in (issuing tok1), anything else is 400."""
    state = GradioApp(tokens if tokens is not None else {})

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/login" and b"password=" + password.encode() not in body:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b'{"detail": "no"}'})
            return
        if scope["path"] == "/login":
            state.tokens["tok1"] = "admin"
        await gradio(scope, lambda: _done(), send)

    guarded = DeskGuard(
        app,
        allowed_origins=["https://desk.example.org"],
        lockout=LoginLockout(5, 900),
        session_s=session_s,
    )

    async def with_app(scope, receive, send):
        scope["app"] = state  # Starlette puts the app in the scope before its middleware
        await guarded(scope, receive, send)

    return TestClient(with_app, base_url="http://desk.local:7861"), state


async def _done():
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, True),
        ({"origin": "http://desk.local:7861"}, True),
        ({"origin": "https://desk.example.org"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://desk.local:7860"}, False),
        ({"referer": "https://evil.example/page"}, False),
        ({"referer": "http://desk.local:7861/"}, True),
        ({"origin": "null"}, False),
    ],
)
def test_a_state_changing_desk_call_must_come_from_the_desk(headers, allowed):
    client, _ = desk()
    r = client.post("/gradio_api/queue/join", json={"data": []}, headers=headers)
    assert (r.status_code != 403) is allowed, r.text


def test_a_cross_origin_read_of_the_desk_is_refused_too():
    client, _ = desk()
    assert client.get("/config", headers={"origin": "https://evil.example"}).status_code == 403
    assert client.get("/config").status_code == 200


def test_desk_cookies_are_samesite_strict():
    client, _ = desk()
    r = client.post("/login", data={"username": "admin", "password": "right"})
    cookies = r.headers.get_list("set-cookie")
    assert cookies
    assert all("samesite=strict" in c.lower() and "samesite=none" not in c.lower() for c in cookies)


def test_five_failed_logins_lock_the_account_even_for_the_right_password():
    client, _ = desk()
    bad = [client.post("/login", data={"username": "admin", "password": "wrong"}) for _ in range(5)]
    assert [r.status_code for r in bad] == [400] * 5
    locked = client.post("/login", data={"username": "admin", "password": "right"})
    assert locked.status_code == 429
    assert "15 分钟" in locked.json()["detail"]


def test_a_good_login_clears_the_failures():
    client, _ = desk()
    for _ in range(4):
        client.post("/login", data={"username": "admin", "password": "wrong"})
    assert client.post("/login", data={"username": "admin", "password": "right"}).status_code == 200
    for _ in range(4):
        client.post("/login", data={"username": "admin", "password": "wrong"})
    assert client.post("/login", data={"username": "admin", "password": "right"}).status_code == 200


def test_the_lockout_ends_after_the_wait_and_memory_stays_bounded():
    lockout = LoginLockout(attempts=2, wait_s=60, max_accounts=100)
    assert not lockout.failed("a", now=0)
    assert lockout.failed("a", now=1)
    assert lockout.locked_for("a", now=30) == pytest.approx(31)
    assert lockout.locked_for("a", now=61.5) == 0
    assert not lockout.failed("a", now=62)  # five fresh tries (here two) after the wait
    for i in range(1000):
        lockout.failed(f"guess-{i}", now=70)
    assert len(lockout._failures) <= 100


def test_a_desk_session_expires():
    client, state = desk(session_s=0.2)
    assert client.post("/login", data={"username": "admin", "password": "right"}).status_code == 200
    assert "tok1" in state.tokens
    client.get("/config", headers={"cookie": "access-token-x=tok1"})
    assert "tok1" in state.tokens
    time.sleep(0.3)
    client.get("/config", headers={"cookie": "access-token-x=tok1"})
    assert "tok1" not in state.tokens  # Gradio no longer knows it: the login page comes back


# ---------------------------------------------------------------- the real app over HTTP

DESK_PASSWORD = "guard-desk-pass-9"
ALLOWED_ORIGIN = "https://desk.example.org"


def from_address(address: str, timeout: float = 60) -> httpx.Client:
    """An HTTP client whose requests leave from this loopback address."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, timeout=timeout, trust_env=False)


def post_chat(client: httpx.Client, url: str, question: str, session: str, **kw) -> httpx.Response:
    body = {"data": [question, []], "session_hash": session}
    return client.post(f"{url}/gradio_api/call/chat", json=body, **kw)


def chat(client: httpx.Client, url: str, question: str, session: str) -> str:
    """One question to its end: the reply's text (AssertionError for a refusal or an error)."""
    posted = post_chat(client, url, question, session)
    assert posted.status_code == 200, posted.text
    event = ""
    with client.stream("GET", f"{url}/gradio_api/call/chat/{posted.json()['event_id']}") as r:
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                assert event == "complete", line
                update = json.loads(line[5:])[0]
                if isinstance(update, dict):  # the senior page's /chat: {"text": ..., ...}
                    return str(update.get("text", ""))
                content = update[-1]["content"]  # a chatbot's history
                if isinstance(content, list):
                    return "".join(p.get("text", "") for p in content)
                return str(content)
    raise AssertionError("the stream ended without a reply")


def knowledge(tmp) -> Any:
    folder = tmp / "knowledge"
    folder.mkdir()
    for key in TINY:
        write_lesson(folder, key)
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app with small limits (3 a session, 6 an address) and the desk."""
    tmp = tmp_path_factory.mktemp("guard-app")
    env = {
        "BOT_ADMIN_PASSWORD": DESK_PASSWORD,
        "BOT_RATE_LIMIT_PER_MINUTE": "3",
        "BOT_RATE_LIMIT_PER_IP_PER_MINUTE": "6",
        "BOT_ADMIN_ORIGINS": ALLOWED_ORIGIN,
    }
    with running_app(tmp, knowledge(tmp), **env) as urls:
        yield urls


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The app behind a trusted proxy at 127.0.0.1, its desk on 127.0.0.7, short desk sessions."""
    tmp = tmp_path_factory.mktemp("guard-proxied")
    env = {
        "BOT_ADMIN_PASSWORD": DESK_PASSWORD,
        "BOT_ADMIN_HOST": "127.0.0.7",
        "BOT_ADMIN_SESSION_HOURS": str(3 / 3600),
        "BOT_RATE_LIMIT_PER_MINUTE": "100",
        "BOT_RATE_LIMIT_PER_IP_PER_MINUTE": "2",
        "BOT_TRUSTED_PROXIES": "127.0.0.1",
    }
    with running_app(tmp, knowledge(tmp), **env) as urls:
        yield urls


def flood(url: str, seconds: float, tasks: int, statuses: list[int]) -> None:
    """`tasks` sessions from 127.0.0.2 asking again the moment they are answered (bounded)."""

    async def one(client: httpx.AsyncClient, until: float) -> None:
        while time.monotonic() < until and len(statuses) < 10_000:
            try:
                statuses.append((await apost_chat(client, url, uuid.uuid4().hex)).status_code)
            except httpx.HTTPError:
                statuses.append(0)

    async def run() -> None:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        limits = httpx.Limits(max_connections=tasks)
        async with httpx.AsyncClient(
            transport=transport, limits=limits, timeout=20, trust_env=False
        ) as client:
            until = time.monotonic() + seconds
            await asyncio.gather(*(one(client, until) for _ in range(tasks)))

    asyncio.run(run())


async def apost_chat(client: httpx.AsyncClient, url: str, session: str) -> httpx.Response:
    body = {"data": [POLICE_Q, []], "session_hash": session}
    return await client.post(f"{url}/gradio_api/call/chat", json=body)


@pytest.mark.slow
def test_a_flood_from_one_client_does_not_make_another_session_wait(app):
    url = app["public"]
    with from_address("127.0.0.1") as warm:  # the app's first answer loads what it needs
        chat(warm, url, POLICE_Q, "warm-up")
    statuses: list[int] = []
    flooding = threading.Thread(target=flood, args=(url, 8, 100, statuses), daemon=True)
    flooding.start()
    time.sleep(1.5)
    waits, replies = [], []
    with from_address("127.0.0.1") as calm:
        for _ in range(3):
            started = time.monotonic()
            replies.append(chat(calm, url, POLICE_Q, "calm-senior"))
            waits.append(time.monotonic() - started)
            time.sleep(0.5)
    flooding.join(timeout=40)
    assert not flooding.is_alive()
    assert statuses.count(200) <= 6  # the flooding address's ceiling
    assert statuses.count(429) > 90
    assert set(statuses) <= {200, 429}  # no 503, no error
    assert all("来自课程" in r for r in replies)
    assert max(waits) < 1.0, waits


@pytest.mark.slow
def test_a_typed_emergency_passes_at_the_limit(app):
    url = app["public"]
    with from_address("127.0.0.3") as client:
        for _ in range(3):
            assert "来自课程" in chat(client, url, POLICE_Q, "urgent")
        assert post_chat(client, url, POLICE_Q, "urgent").status_code == 429
        assert CARD_START in chat(client, url, EMERGENCY_Q, "urgent")
        for i in range(4):  # and past the address's ceiling, with new sessions
            post_chat(client, url, POLICE_Q, f"other-{i}")
        assert post_chat(client, url, POLICE_Q, "fresh").status_code == 429
        assert CARD_START in chat(client, url, EMERGENCY_Q, "fresh")


@pytest.mark.slow
def test_an_oversize_question_is_refused_at_once_with_the_calm_message(app):
    url = app["public"]
    with from_address("127.0.0.4") as client:
        started = time.monotonic()
        long = post_chat(client, url, "请问" * 1500, "long")
        body = b'{"data": ["' + b"x" * 5_000_000 + b'"], "session_hash": "big"}'
        big = client.post(f"{url}/gradio_api/queue/join", content=body)
        elapsed = time.monotonic() - started
    assert (long.status_code, big.status_code) == (413, 413)
    assert long.json()["detail"] == big.json()["detail"] == TOO_LONG
    assert elapsed < 2.0


@pytest.mark.slow
def test_unknown_functions_are_404_without_a_traceback(app):
    url = app["public"]
    with from_address("127.0.0.5") as client:
        calls = [
            client.post(f"{url}/gradio_api/call/reindex", json={"data": []}),
            client.post(f"{url}/gradio_api/run/show_outline", json={"data": ["x"]}),
            client.post(f"{url}/gradio_api/run/nope", json={"data": []}),
        ]
        for index in (9999, "0", -1):
            body = {"data": [], "fn_index": index, "session_hash": "x", "trigger_id": None}
            calls.append(client.post(f"{url}/gradio_api/queue/join", json=body))
    for r in calls:
        assert r.status_code == 404, (r.request.url, r.status_code, r.text[:200])
        assert "Traceback" not in r.text
    assert "Traceback" not in app["log"].read_text("utf-8")


@pytest.mark.slow
def test_x_forwarded_for_is_ignored_from_an_untrusted_client(app):
    url = app["public"]
    with from_address("127.0.0.6") as client:
        codes = [
            post_chat(
                client, url, POLICE_Q, f"s{i}", headers={"x-forwarded-for": f"10.0.0.{i}"}
            ).status_code
            for i in range(8)
        ]
    assert codes == [200] * 6 + [429] * 2  # one address, whatever it claims


@pytest.mark.slow
def test_x_forwarded_for_is_believed_from_a_trusted_proxy(proxied):
    url = proxied["public"]
    with from_address("127.0.0.1") as proxy:
        spread = [
            post_chat(proxy, url, POLICE_Q, f"s{i}", headers={"x-forwarded-for": f"10.0.1.{i}"})
            for i in range(4)
        ]
        same = [
            post_chat(proxy, url, POLICE_Q, f"t{i}", headers={"x-forwarded-for": "10.0.2.1"})
            for i in range(3)
        ]
    assert [r.status_code for r in spread] == [200] * 4
    assert [r.status_code for r in same] == [200, 200, 429]
    with from_address("127.0.0.8") as untrusted:
        codes = [
            post_chat(
                untrusted, url, POLICE_Q, f"u{i}", headers={"x-forwarded-for": f"10.3.{i}"}
            ).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]


@pytest.mark.slow
def test_a_cross_origin_desk_call_is_refused_and_cookies_are_strict(app):
    desk_url = app["desk"]
    evil = {"origin": "https://evil.example"}
    with httpx.Client(timeout=30, trust_env=False) as client:
        login = {"username": "admin", "password": DESK_PASSWORD}
        assert client.post(f"{desk_url}/login", data=login, headers=evil).status_code == 403
        good = client.post(f"{desk_url}/login", data=login, headers={"origin": desk_url})
        assert good.status_code == 200
        cookies = good.headers.get_list("set-cookie")
        assert cookies
        assert all("samesite=strict" in c.lower() for c in cookies)
        assert all("samesite=none" not in c.lower() for c in cookies)
        assert client.get(f"{desk_url}/config").status_code == 200  # logged in
        body = {"data": [], "fn_index": 0, "session_hash": "desk", "trigger_id": None}
        join_url = f"{desk_url}/gradio_api/queue/join"
        refused = client.post(join_url, json=body, headers=evil)
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        assert client.get(f"{desk_url}/config", headers=evil).status_code == 403
        for origin in (desk_url, ALLOWED_ORIGIN):
            assert client.post(join_url, json=body, headers={"origin": origin}).status_code != 403


@pytest.mark.slow
def test_the_desk_listens_on_its_own_address_locks_out_and_expires(proxied):
    desk_url = proxied["desk"]
    assert desk_url.startswith("http://127.0.0.7:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(desk_url.replace("127.0.0.7", "127.0.0.1") + "/", timeout=5)
    login = {"username": "admin", "password": DESK_PASSWORD}
    with httpx.Client(timeout=30, trust_env=False) as client:
        assert client.post(f"{desk_url}/login", data=login).status_code == 200
        assert client.get(f"{desk_url}/config").status_code == 200
        time.sleep(3.5)  # BOT_ADMIN_SESSION_HOURS = 3 s
        assert client.get(f"{desk_url}/config").status_code in (401, 403)
        wrong = {"username": "admin", "password": "not-it"}
        codes = [client.post(f"{desk_url}/login", data=wrong).status_code for _ in range(5)]
        assert codes == [400] * 5
        locked = client.post(f"{desk_url}/login", data=login)
        assert locked.status_code == 429
        assert "分钟后再试" in locked.json()["detail"]
        assert client.get(f"{desk_url}/config").status_code in (401, 403)
    assert "locked after 5 failed logins" in proxied["log"].read_text("utf-8")
