"""The rate limiter's window, on a clock the test controls."""

from __future__ import annotations

from reactions.web.limits import RateLimiter, is_bot


def test_sliding_window_allows_the_limit_then_says_how_long_to_wait() -> None:
    now = [1000.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.retry_after("r") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("r") == 60
    now[0] += 30
    assert limiter.retry_after("r") == 30
    assert limiter.retry_after("other") == 0
    now[0] += 30.5
    assert limiter.retry_after("r") == 0


def test_browsers_are_not_bots() -> None:
    assert not is_bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140 Safari/537.36")
    assert not is_bot("Reactions browser test")
    assert is_bot("Mozilla/5.0 (compatible; bingbot/2.0)")
