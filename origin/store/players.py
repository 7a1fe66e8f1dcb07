"""Player themes (:mod:`origin.players`): a tenant's looks and defaults for the embed player.

A theme's logo (PNG or JPEG bytes) is stored in its row but read only by :meth:`PlayerThemeRepository.logo`;
every other query leaves it out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from origin.catalogue.ids import new_id
from origin.store.db import Database, Records
from origin.store.schema import now, player_themes

_P = player_themes.c
#: The hex digits of the logo's SHA-256 that version its URL.
LOGO_VERSION_CHARS = 16


@dataclass(frozen=True)
class PlayerTheme:
    id: str
    tenant_id: str
    name: str
    background_color: str
    text_color: str
    accent_color: str
    watermark: str
    controls: bool
    buttons: list[str]
    autoplay: bool
    muted: bool
    loop: bool
    logo_position: str
    logo_type: str | None
    logo_version: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str
    version: str


THEMES = Records(PlayerTheme, player_themes)


def _logo_columns(logo: tuple[bytes, str] | None) -> dict[str, Any]:
    if logo is None:
        return {"logo": None, "logo_type": None, "logo_version": None}
    data, media_type = logo
    return {
        "logo": data,
        "logo_type": media_type,
        "logo_version": hashlib.sha256(data).hexdigest()[:LOGO_VERSION_CHARS],
    }


class PlayerThemeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, tenant_id: str, fields: dict[str, Any], logo: tuple[bytes, str] | None) -> PlayerTheme:
        """A new theme (``pl_`` id) with ``fields`` (every column of :class:`PlayerTheme` that is not
        an id, a logo column or a time) and an optional ``(bytes, MIME type)`` logo."""
        at = now()
        values = {**fields, "id": new_id("pl"), "tenant_id": tenant_id, "created_at": at, "updated_at": at}
        statement = sa.insert(player_themes).values(**values, **_logo_columns(logo)).returning(*THEMES.columns)
        theme = THEMES.first(await self.db.execute(statement))
        assert theme is not None
        return theme

    async def list(self, tenant_id: str) -> list[PlayerTheme]:
        statement = THEMES.select().where(_P.tenant_id == tenant_id).order_by(_P.created_at, _P.id)
        return THEMES.all(await self.db.execute(statement))

    async def get(self, tenant_id: str, theme_id: str) -> PlayerTheme | None:
        statement = THEMES.select().where(_P.tenant_id == tenant_id, _P.id == theme_id)
        return THEMES.first(await self.db.execute(statement))

    async def get_many(self, tenant_id: str, theme_ids: Sequence[str]) -> dict[str, PlayerTheme]:
        """The tenant's themes among ``theme_ids``, by id (one query)."""
        if not theme_ids:
            return {}
        statement = THEMES.select().where(_P.tenant_id == tenant_id, _P.id.in_(sorted(set(theme_ids))))
        return {theme.id: theme for theme in THEMES.all(await self.db.execute(statement))}

    async def update(
        self,
        tenant_id: str,
        theme_id: str,
        fields: dict[str, Any],
        logo: tuple[bytes, str] | None | Literal["keep"] = "keep",
    ) -> PlayerTheme | None:
        """Change ``fields``; ``logo``: ``"keep"`` keeps the logo, ``None`` removes it, ``(bytes, type)``
        replaces it. The theme after, None if the tenant has no such theme."""
        values = {**fields, "updated_at": now()}
        if logo != "keep":
            values.update(_logo_columns(logo))
        statement = (
            sa.update(player_themes)
            .where(_P.tenant_id == tenant_id, _P.id == theme_id)
            .values(**values)
            .returning(*THEMES.columns)
        )
        return THEMES.first(await self.db.execute(statement))

    async def delete(self, tenant_id: str, theme_id: str) -> bool:
        result = await self.db.execute(sa.delete(player_themes).where(_P.tenant_id == tenant_id, _P.id == theme_id))
        return bool(result.rowcount)

    async def logo(self, theme_id: str) -> Logo | None:
        """A theme's logo, whoever's theme it is (logos are public: the player page shows them)."""
        statement = sa.select(_P.logo, _P.logo_type, _P.logo_version).where(_P.id == theme_id, _P.logo.is_not(None))
        row = (await self.db.execute(statement)).first()
        return None if row is None else Logo(bytes(row.logo), row.logo_type, row.logo_version)
