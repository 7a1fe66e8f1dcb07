"""Shared fixtures. Fixtures that start real servers live in tests/fixtures/ and are loaded here."""

import pytest

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.s3",
    "tests.fixtures.origin",
    "tests.fixtures.db",
    "tests.fixtures.origin_server",
    "tests.fixtures.media",
    "tests.fixtures.ci",
    "tests.editor.render_stack",
    "pytester",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
