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


def test_the_client_behind_a_trusted_proxy_is_the_forwarded_address() -> None:
    from reactions.web.identity import client_address

    proxies = ("10.0.0.5/32", "10.1.0.0/16")
    # through the balancer: the nearest address that is not a proxy of ours
    assert client_address("10.0.0.5", "198.51.100.7", proxies) == "198.51.100.7"
    assert client_address("10.0.0.5", "203.0.113.9, 198.51.100.7, 10.1.2.3", proxies) == (
        "198.51.100.7"
    )
    # straight to us, a forged header is ignored; so is any header without trusted proxies
    assert client_address("198.51.100.7", "1.2.3.4", proxies) == "198.51.100.7"
    assert client_address("10.0.0.5", "198.51.100.7", ()) == "10.0.0.5"
    assert client_address("10.0.0.5", "not-an-address", proxies) == "not-an-address"


def test_behind_nginx_every_reader_keeps_a_budget_of_their_own(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through the real routes, from the balancer's address: readers forwarded from
    different addresses are limited per address, not as one."""
    from reactions.store.articles import upsert_articles
    from reactions.store.store import Store
    from tests.conftest import app_client, make_articles

    db = tmp_path / "proxied.duckdb"
    store = Store.open(db)
    upsert_articles(store, make_articles("cup-final"))
    store.close()
    env = {"REACTIONS_TRUSTED_PROXIES": "127.0.0.1", "REACTIONS_TAPS_PER_IP_MINUTE": "3"}
    with app_client(db, env, client=("127.0.0.1", 40000)) as client:

        def tap(reader: str, address: str) -> int:
            return client.post(
                "/api/v1/reactions",
                json={"article_id": "cup-final", "kind": "love", "reader_id": reader},
                headers={"X-Forwarded-For": address},
            ).status_code

        assert [tap(f"a{i}", "198.51.100.7") for i in range(4)] == [200, 200, 200, 429]
        assert tap("b0", "203.0.113.9") == 200  # another reader behind the same balancer
