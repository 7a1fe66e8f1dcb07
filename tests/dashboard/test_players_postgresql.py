"""The Players page and the themes it makes, on PostgreSQL (tests/dashboard/test_players.py runs them on
SQLite): the same tests, collected here again with a PostgreSQL store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mediaedge.settings import Settings
from tests.dashboard.test_players import (
    logo,
    test_a_player_is_created_with_its_logo_and_listed,
    test_a_player_is_edited_its_logo_removed_and_deleted,
    test_a_videos_player_id_themes_its_embed_page,
)
from tests.fixtures.db import fresh_pg_database
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio
__all__ = [
    "logo",
    "test_a_player_is_created_with_its_logo_and_listed",
    "test_a_player_is_edited_its_logo_removed_and_deleted",
    "test_a_videos_player_id_themes_its_embed_page",
]


@pytest.fixture
def settings(tmp_path: Path, pg_admin_dsn: str) -> Iterator[Settings]:
    with fresh_pg_database(pg_admin_dsn) as url:
        yield make_settings(tmp_path / "var", database={"url": url})


async def test_these_run_on_postgresql(origin_state):
    assert origin_state.store.db.dialect == "postgresql"
