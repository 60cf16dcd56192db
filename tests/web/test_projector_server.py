"""The projector's web server on its own, over a stand-in service: what it answers when the database is down, which
requests count as wrong links, and how it tells clients apart behind a proxy (end-to-end tests with a real drill
are in tests/telegram/test_projector.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.i18n import translator
from bot.services.wiring import StorageError
from bot.web.server import ProjectorServer, RateLimit
from tests.telegram.conftest import BANK


class DownService:
    """A projector service whose database can't be read."""

    calls = 0

    async def view(self, drill_id: str, token: str) -> None:
        self.calls += 1
        raise StorageError("cannot reach PostgreSQL at db:5432: connection refused")


class NoDrills:
    async def view(self, drill_id: str, token: str) -> None:
        return None


async def client_for(service: object, **options: object) -> AsyncIterator[TestClient]:
    server = ProjectorServer(service, translator(), BANK, join_link=lambda code: code, **options)  # type: ignore[arg-type]
    async with TestClient(TestServer(server.app())) as client:
        yield client


@pytest.fixture
async def down() -> AsyncIterator[TestClient]:
    async for client in client_for(DownService()):
        yield client


@pytest.fixture
async def empty() -> AsyncIterator[TestClient]:
    """No drills, and no limit on the request rate: only the wrong-link limit is under test."""
    async for client in client_for(NoDrills(), requests=RateLimit(rate=1000.0, burst=1000.0)):
        yield client


async def test_a_database_outage_is_a_503_with_the_headers_and_one_warning(
    down: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        reply = await down.get("/projector/d1/tok/state")
        assert reply.status == 503 and await reply.text() == "Unavailable\n"
        assert reply.headers["Retry-After"] == "2" and "default-src 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["Cache-Control"] == "no-store"
    warnings = [r for r in caplog.records if r.name == "bot.web.server"]
    assert len(warnings) == 1 and "the database can't be read" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)  # a line, not a traceback a poll


async def test_stray_requests_are_not_wrong_links_but_tried_links_are(empty: TestClient) -> None:
    for _ in range(20):
        assert (await empty.get("/favicon.ico")).status == 204
        assert (await empty.get("/projector/static/missing.css")).status == 404
        assert (await empty.get("/elsewhere")).status == 404
    assert (await empty.get("/projector/static/projector.css")).status == 200  # not locked out
    for n in range(10):
        assert (await empty.get(f"/projector/d{n}/token/")).status == 404
    refused = await empty.get("/projector/static/projector.css")
    assert refused.status == 429 and refused.headers["Retry-After"] == "5"
    # Another client behind the same proxy (a different X-Real-IP) is not affected.
    other = await empty.get("/projector/static/projector.css", headers={"X-Real-IP": "192.0.2.8"})
    assert other.status == 200


async def test_a_405_keeps_its_allow_header(empty: TestClient) -> None:
    reply = await empty.post("/projector/static/projector.css")
    assert reply.status == 405 and "GET" in reply.headers["Allow"]


async def test_only_a_trusted_proxy_names_the_client() -> None:
    """The test client connects from 127.0.0.1: trusted by default, not when the setting names another proxy."""
    generous = RateLimit(rate=1000.0, burst=1000.0)
    async for client in client_for(NoDrills(), trusted_proxies=frozenset({"10.0.0.1"}), requests=generous):
        for n in range(10):  # ten wrong links, each claiming another address: the header is not believed
            assert (await client.get(f"/projector/d{n}/t/", headers={"X-Real-IP": f"192.0.2.{n}"})).status == 404
        assert (await client.get("/projector/static/projector.css")).status == 429


def test_the_rate_limit_keeps_a_bounded_number_of_clients() -> None:
    clock = [0.0]
    limit = RateLimit(rate=1.0, burst=2.0, clients=100, clock=lambda: clock[0])
    for n in range(10_000):
        assert limit.allow(f"10.0.{n // 256}.{n % 256}")
        assert not limit.spent(f"172.16.{n // 256}.{n % 256}")  # asking never keeps a bucket
    assert len(limit._buckets) == 100  # the least recently seen were forgotten
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a")


def test_ipv6_clients_count_by_their_64() -> None:
    from bot.web.server import bucket_key

    assert bucket_key("2001:db8:1:2:aaaa::1") == bucket_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert bucket_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert bucket_key("192.0.2.1") == "192.0.2.1"
