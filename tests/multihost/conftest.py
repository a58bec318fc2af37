"""Fixtures of the several-hosts suite: namespaces, a private PostgreSQL, a fresh database per test.

Every host is a network namespace on one bridge (see :mod:`multihost.network`); the
database is a PostgreSQL cluster of the suite's own on the bridge (see
:mod:`multihost.private_postgres`), so tests may restart it. Each test gets a copy of
a template database holding the reference host's tables, its demo users and three
libraries whose folders all hosts see at the same paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from chromium import launch_chromium
from multihost import network as netns
from multihost import private_postgres
from multihost.hosts import Hosts, Libraries
from multihost.network import Network
from multihost.private_postgres import PrivateCluster
from multihost.template import copy_template, prepare_template

PG_PORT = 5433


@pytest.fixture(scope="session")
def network() -> Iterator[Network]:
    """Hosts ``a``, ``b`` and ``c`` as namespaces on a bridge of this run."""
    reason = netns.why_unavailable() or private_postgres.why_unavailable()
    if reason is not None:
        pytest.skip(f"several-hosts suite: {reason}")
    try:
        made = Network.create()
    except netns.NetworkUnavailable as error:
        pytest.skip(f"several-hosts suite: cannot make network namespaces here: {error}")
    try:
        yield made
    finally:
        made.remove()


@pytest.fixture(scope="session")
def postgres(network: Network) -> Iterator[PrivateCluster]:
    """The suite's own PostgreSQL, on the bridge, trusting the hosts' subnet."""
    subnet = f"{network.gateway.rsplit('.', 1)[0]}.0/24"
    try:
        cluster = PrivateCluster.create(address=network.gateway, port=PG_PORT, subnet=subnet)
    except private_postgres.PostgresUnavailable as error:
        pytest.fail(f"the private PostgreSQL cluster did not start: {error}")
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def libraries(postgres: PrivateCluster, tmp_path_factory: pytest.TempPathFactory) -> Libraries:
    """The template database and the libraries' folders, made once per run."""
    return prepare_template(postgres, tmp_path_factory.mktemp("shared"))


@pytest.fixture
def database_url(postgres: PrivateCluster, libraries: Libraries) -> Iterator[str]:
    """A database of this test's own, copied from the template."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = copy_template(postgres, name)
    try:
        yield url
    finally:
        # No pooled connection: the test may have restarted the server meanwhile.
        admin = sa.create_engine(
            postgres.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[sa.Engine]:
    """The test's database, read from the root namespace (what the tests check)."""
    engine = sa.create_engine(database_url, pool_pre_ping=True)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def hosts(network: Network, database_url: str, tmp_path: Path) -> Iterator[Hosts]:
    """Start apps and workers on the hosts; all stopped when the test ends."""
    started = Hosts(hosts=network.hosts, database_url=database_url, folder=tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium in the root namespace: a user's browser reaching the hosts over the bridge."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test."""
    profile = browser.new_context(viewport={"width": 1100, "height": 700})
    profile.set_default_timeout(20_000)
    try:
        yield profile
    finally:
        profile.close()
