"""The Players page: the tenant's player themes (create, edit, delete), which the embed page applies
through its ``player`` parameter and a video's ``player_id`` (:mod:`origin.players`)."""

from __future__ import annotations

from typing import Any, Literal

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mediaedge.errors import HTTPError
from origin.dashboard.render import render
from origin.dashboard.session import Login
from origin.dashboard.views import _form, _text, page
from origin.players import (
    BUTTONS,
    LOGO_POSITIONS,
    MAX_LOGO_BYTES,
    MAX_THEMES,
    ThemeFields,
    check_logo,
    fields_of,
    not_found,
)
from origin.state import get_state
from origin.store.players import PlayerTheme

BUTTON_LABELS = {
    "fullscreen": "Fullscreen",
    "download": "Download",
    "playback_rate": "Playback speed",
    "picture_in_picture": "Picture-in-picture",
    "remote_playback": "Cast / remote playback",
}


def _fields(form: FormData) -> ThemeFields:
    def on(name: str) -> bool:
        return _text(form, name) == "1"

    return ThemeFields(
        name=_text(form, "name"),
        background_color=_text(form, "background_color").lower(),
        text_color=_text(form, "text_color").lower(),
        accent_color=_text(form, "accent_color").lower(),
        watermark=_text(form, "watermark"),
        controls=on("controls"),
        buttons=[b for b in BUTTONS if b in form.getlist("buttons")],
        autoplay=on("autoplay"),
        muted=on("muted"),
        loop=on("loop"),
        logo_position=_text(form, "logo_position"),
    )


async def _logo(form: FormData, errors: list[str]) -> tuple[bytes, str] | None:
    """The uploaded logo, checked (None when no file was chosen, or it is refused: the reason goes
    to ``errors``)."""
    upload = form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    try:
        return check_logo(await upload.read(MAX_LOGO_BYTES + 1))
    except HTTPError as exc:
        errors.append(exc.message)
        return None


def _render(request: Request, login: Login, template: str, status: int = 200, **context: Any) -> Response:
    return render(
        request,
        template,
        login,
        status,
        active="players",
        buttons=BUTTON_LABELS,
        positions=LOGO_POSITIONS,
        max_logo_kb=MAX_LOGO_BYTES // 1024,
        origin_host=get_state(request).settings.origin.url,
        **context,
    )


async def _list(request: Request, login: Login, status: int = 200, **context: Any) -> Response:
    themes = await get_state(request).store.player_themes.list(login.tenant.id)
    context.setdefault("draft", ThemeFields(name=""))
    return _render(request, login, "players.html", status, themes=themes, **context)


async def _theme(request: Request, login: Login) -> PlayerTheme:
    theme = await get_state(request).store.player_themes.get(login.tenant.id, request.path_params["player_id"])
    if theme is None:
        raise not_found()
    return theme


def _edit(request: Request, login: Login, theme: PlayerTheme, status: int = 200, **context: Any) -> Response:
    context.setdefault("draft", fields_of(theme))
    return _render(request, login, "player.html", status, theme=theme, **context)


@page
async def players_page(request: Request, login: Login) -> Response:
    return await _list(request, login)


@page
async def create_player(request: Request, login: Login) -> Response:
    form = _form(request)
    fields = _fields(form)
    store = get_state(request).store.player_themes
    errors = fields.problems()
    if len(await store.list(login.tenant.id)) >= MAX_THEMES:
        errors.append(f"A tenant has at most {MAX_THEMES} players")
    logo = await _logo(form, errors)
    if errors:
        return await _list(request, login, 400, errors=errors, draft=fields)
    theme = await store.create(login.tenant.id, fields.columns(), logo)
    return RedirectResponse(f"/dashboard/players/{theme.id}?created=1", 303)


@page
async def player_page(request: Request, login: Login) -> Response:
    theme = await _theme(request, login)
    notice = "Player created." if request.query_params.get("created") else ""
    return _edit(request, login, theme, notice=notice)


@page
async def update_player(request: Request, login: Login) -> Response:
    theme = await _theme(request, login)
    form = _form(request)
    fields = _fields(form)
    errors = fields.problems()
    uploaded = await _logo(form, errors)
    if errors:
        return _edit(request, login, theme, 400, errors=errors, draft=fields)
    logo: tuple[bytes, str] | None | Literal["keep"] = uploaded or (
        None if _text(form, "remove_logo") == "1" else "keep"
    )
    store = get_state(request).store.player_themes
    updated = await store.update(login.tenant.id, theme.id, fields.columns(), logo)
    if updated is None:
        raise not_found()
    return _edit(request, login, updated, notice="Player saved.")


@page
async def delete_player(request: Request, login: Login) -> Response:
    theme = await _theme(request, login)
    await get_state(request).store.player_themes.delete(login.tenant.id, theme.id)
    return await _list(request, login, notice=f"Player {theme.name} deleted.")
