"""The public chat's per-client rate limit: a sliding window, clients apart, memory bounded."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.web.ratelimit import RateLimiter


def allowed(limiter: RateLimiter, client: str, times: list[float]) -> list[bool]:
    return [limiter.allow(client, now=t) for t in times]


def test_up_to_the_limit_then_refused():
    limiter = RateLimiter(3, window=60)
    assert allowed(limiter, "a", [0, 1, 2, 3, 30]) == [True, True, True, False, False]


def test_the_window_slides_one_request_at_a_time():
    limiter = RateLimiter(3, window=60)
    assert allowed(limiter, "a", [0, 10, 20]) == [True] * 3
    # the request at 0 leaves the window at 60, the one at 10 at 70
    assert allowed(limiter, "a", [59.9, 60, 60.5, 69.9, 70, 71]) == [
        False,
        True,
        False,
        False,
        True,
        False,
    ]


def test_refused_requests_do_not_extend_the_wait():
    limiter = RateLimiter(2, window=10)
    assert allowed(limiter, "a", [0, 1]) == [True, True]
    assert allowed(limiter, "a", [2, 3, 4, 5, 6, 7, 8, 9]) == [False] * 8
    assert allowed(limiter, "a", [10, 11]) == [True, True]


def test_a_full_window_later_the_client_starts_afresh():
    limiter = RateLimiter(20, window=60)
    assert all(allowed(limiter, "a", [float(i) for i in range(20)]))
    assert not limiter.allow("a", now=20)
    assert all(allowed(limiter, "a", [1000.0 + i for i in range(20)]))


def test_clients_are_limited_apart():
    limiter = RateLimiter(2, window=60)
    assert allowed(limiter, "a", [0, 1, 2]) == [True, True, False]
    assert allowed(limiter, "b", [2, 3, 4]) == [True, True, False]
    assert not limiter.allow("a", now=5)
    assert limiter.allow("c", now=5)


def test_the_real_clock_is_used_when_no_time_is_given():
    limiter = RateLimiter(2, window=60)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]


def test_concurrent_requests_never_exceed_the_limit():
    limiter = RateLimiter(10, window=60)
    start = threading.Barrier(8)

    def burst(_: int) -> int:
        start.wait()
        return sum(limiter.allow("same-client", now=1.0) for _ in range(50))

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(burst, range(8))) == 10


def test_memory_stays_bounded_with_many_one_off_clients():
    limiter = RateLimiter(5, window=60)
    # 50,000 different clients, one request each, spread over ten minutes
    for i in range(50_000):
        assert limiter.allow(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", now=i * 0.012)
    assert len(limiter._hits) <= 10_000
    size = sys.getsizeof(limiter._hits) + sum(sys.getsizeof(v) for v in limiter._hits.values())
    assert size < 10_000_000


def test_memory_stays_bounded_when_every_client_is_active():
    limiter = RateLimiter(5, window=60)
    for i in range(30_000):  # all within one window: nobody is idle yet
        limiter.allow(f"client-{i}", now=1.0)
    assert len(limiter._hits) <= 10_000


def test_a_forgotten_idle_client_is_limited_afresh_and_an_active_one_is_remembered():
    limiter = RateLimiter(2, window=60)
    assert allowed(limiter, "regular", [0, 1]) == [True, True]
    for i in range(20_000):  # a crowd of one-off clients, two minutes later
        limiter.allow(f"passer-by-{i}", now=120 + i * 0.001)
    assert allowed(limiter, "regular", [200, 201, 202]) == [True, True, False]
    # a client active right now is still limited, however many others come and go
    for i in range(100):
        limiter.allow(f"another-{i}", now=203)
    assert not limiter.allow("regular", now=204)


# ---------------------------------------------------------------- per session, under an address


def test_sessions_are_limited_apart_under_a_higher_ceiling_for_their_address():
    from bot.web.guard import SessionLimiter

    limiter = SessionLimiter(per_session=2, per_ip=5)
    assert [limiter.allow("tab-1", "10.0.0.1", now=0) for _ in range(3)] == [True, True, False]
    # another tablet behind the same branch router is not held back by the first
    assert [limiter.allow("tab-2", "10.0.0.1", now=1) for _ in range(2)] == [True, True]
    # ... until the address's ceiling, which fresh session ids do not get around
    assert [limiter.allow(f"new-{i}", "10.0.0.1", now=2) for i in range(3)] == [True, False, False]
    assert limiter.allow("tab-1", "10.0.0.2", now=2)  # another address starts afresh
    assert limiter.allow("tab-3", "10.0.0.1", now=61)  # a minute later the window has slid


def test_a_session_over_its_limit_does_not_use_up_its_address():
    from bot.web.guard import SessionLimiter

    limiter = SessionLimiter(per_session=1, per_ip=3)
    assert limiter.allow("busy-tab", "10.0.0.1", now=0)
    assert not any(limiter.allow("busy-tab", "10.0.0.1", now=1) for _ in range(50))
    assert [limiter.allow(t, "10.0.0.1", now=2) for t in ("a", "b", "c")] == [True, True, False]
