"""Player themes: what a theme may hold, and how the embed page and the video objects API show one.

A theme (``store.player_themes``) sets the embed player's colours (background, text, accent), a logo
(PNG, JPEG, GIF or WebP, checked by its content, at most :data:`MAX_LOGO_BYTES`) in a corner, a default
watermark, whether the controls show and which optional buttons they offer, and the autoplay, muted
and loop defaults. The embed page's query parameters override the defaults; see docs/embed.md.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from mediaedge.ai.providers import image_mime
from mediaedge.errors import HTTPError
from origin.http import iso_time
from origin.state import OriginState
from origin.store.players import PlayerTheme

COLOR = re.compile(r"#[0-9a-f]{6}")
COLOR_FIELDS = {"background_color": "Background colour", "text_color": "Text colour", "accent_color": "Accent colour"}
#: The optional buttons of the browser's controls a theme can take away (``controlsList`` and
#: ``disablePictureInPicture`` of the video element).
BUTTONS = ("fullscreen", "download", "playback_rate", "picture_in_picture", "remote_playback")
LOGO_POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_NAME = 100
MAX_WATERMARK = 200
MAX_LOGO_BYTES = 512 * 1024
MAX_THEMES = 100


def not_found() -> HTTPError:
    return HTTPError(404, "Player not found", "PLAYER_NOT_FOUND")


@dataclass(frozen=True)
class ThemeFields:
    """Everything a theme sets but its logo (what the Players page's form posts)."""

    name: str
    background_color: str = "#000000"
    text_color: str = "#ffffff"
    accent_color: str = "#3ea6ff"
    watermark: str = ""
    controls: bool = True
    buttons: list[str] = field(default_factory=lambda: list(BUTTONS))
    autoplay: bool = False
    muted: bool = False
    loop: bool = False
    logo_position: str = "top-right"

    def problems(self) -> list[str]:
        """What is wrong with these fields, one sentence each (empty: nothing)."""
        found = []
        if not self.name or len(self.name) > MAX_NAME:
            found.append(f"A player needs a name of 1 to {MAX_NAME} characters")
        for name, label in COLOR_FIELDS.items():
            if not COLOR.fullmatch(getattr(self, name)):
                found.append(f"{label} must be a colour like #1a2b3c")
        if len(self.watermark) > MAX_WATERMARK:
            found.append(f"The watermark is at most {MAX_WATERMARK} characters")
        if unknown := [b for b in self.buttons if b not in BUTTONS]:
            found.append(f"Unknown buttons: {', '.join(unknown)}")
        if self.logo_position not in LOGO_POSITIONS:
            found.append(f"The logo position is one of {', '.join(LOGO_POSITIONS)}")
        return found

    def columns(self) -> dict[str, Any]:
        return asdict(self)


def fields_of(theme: PlayerTheme) -> ThemeFields:
    return ThemeFields(**{name: getattr(theme, name) for name in ThemeFields.__dataclass_fields__})


def check_logo(data: bytes) -> tuple[bytes, str]:
    """``(bytes, MIME type)`` of an acceptable logo; 400 ``PLAYER_LOGO_INVALID`` otherwise."""
    if len(data) > MAX_LOGO_BYTES:
        raise HTTPError(400, f"The logo is at most {MAX_LOGO_BYTES // 1024} KB", "PLAYER_LOGO_INVALID")
    mime = image_mime(data)
    if mime not in LOGO_TYPES:
        raise HTTPError(400, "The logo must be a PNG, JPEG, GIF or WebP image", "PLAYER_LOGO_INVALID")
    return data, mime


def logo_url(state: OriginState, theme: PlayerTheme) -> str | None:
    """The logo's immutable URL on the origin (``/embed/players/{id}/logo?v=…``), None without one."""
    if not theme.logo_version:
        return None
    return f"{state.settings.origin.url}/embed/players/{quote(theme.id, safe='')}/logo?v={theme.logo_version}"


def public_dict(state: OriginState, theme: PlayerTheme) -> dict[str, Any]:
    """A theme as the video objects API shows it (``player_theme``)."""
    return {
        "id": theme.id,
        **fields_of(theme).columns(),
        "logo_url": logo_url(state, theme),
        "created_at": iso_time(theme.created_at),
        "updated_at": iso_time(theme.updated_at),
    }


def embed_config(state: OriginState, theme: PlayerTheme) -> dict[str, Any]:
    """What the player script applies (the flags and the watermark are merged by the page itself)."""
    return {
        "id": theme.id,
        "colors": {"background": theme.background_color, "text": theme.text_color, "accent": theme.accent_color},
        "logo": logo_url(state, theme),
        "logoPosition": theme.logo_position,
        "buttons": list(theme.buttons),
    }


async def tenant_theme(state: OriginState, tenant_id: str, theme_id: str) -> PlayerTheme:
    """The tenant's theme; 404 ``PLAYER_NOT_FOUND`` otherwise (another tenant's too)."""
    theme = await state.store.player_themes.get(tenant_id, theme_id) if theme_id else None
    if theme is None:
        raise not_found()
    return theme
