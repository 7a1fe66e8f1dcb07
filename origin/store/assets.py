"""The catalogue's tables: assets, and the renditions, captions and transcripts hanging off them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from origin.catalogue.ids import new_asset_id, new_id
from origin.catalogue.status import Status, can_move
from origin.store.db import Conn, Database, Records
from origin.store.models import Asset, Caption, Rendition, Transcript
from origin.store.schema import (
    CARRIED_SORTS,
    SEARCHED,
    asset_counts,
    asset_metadata,
    asset_search,
    asset_search_rows,
    asset_tags,
    assets,
    captions,
    now,
    renditions,
    transcripts,
)

ASSETS = Records(Asset, assets)
RENDITIONS = Records(Rendition, renditions)
CAPTIONS = Records(Caption, captions)
TRANSCRIPTS = Records(Transcript, transcripts)

#: Columns a listing can sort by.
SORTABLE = frozenset({"created_at", "updated_at", "title", "size", "duration"})
#: Longest page a listing returns.
MAX_PAGE = 1000
#: The shortest search term the trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) look up.
TRIGRAM = 3
#: How many of the tenant's newest assets a shorter search term is looked for in.
SHORT_SEARCH_WINDOW = 10_000
#: What a short search term matches on SQLite: without ``lower()``, as LIKE already folds ASCII case.
SEARCHED_RAW = (assets.c.title, assets.c.description, sa.cast(assets.c.tags, sa.Text))
#: ... and on PostgreSQL: the searched expressions, but not as the pg_trgm indexes have them. A
#: prepared statement's generic plan (from its sixth run on) does not know the pattern is too short
#: for a trigram and scans those whole indexes (90 ms at 100,000 assets) instead of the window.
SHORT_SEARCHED = tuple(expression.concat("") for expression in SEARCHED)


def _defaults(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": "",
        "description": "",
        "tags": [],
        "metadata": {},
        "is_public": True,
        "status": Status.QUEUED.value,
        "file_id": None,
        "stream_id": None,
        "folder": "",
        "user_id": "",
        "sha256": None,
        "mime": "application/octet-stream",
        "size": 0,
        "duration": None,
        "width": None,
        "height": None,
        "poster": None,
        "source": "upload",
        "dialect": "aauti",
        "extra": {},
        "progress": 0.0,
        "error": None,
    }


INSERT_ASSET = sa.insert(assets)
#: A listing's tenant, kinds, statuses and whether deleted assets count.
Scope = tuple[str, list[str] | None, list[Status] | None, bool]


@dataclass(frozen=True)
class _Listing:
    """One page as :meth:`AssetRepository.page` settled it, for the statement builders."""

    scope: Scope
    narrowed: list[sa.ColumnElement[bool]]
    tags: list[str]
    metadata: dict[str, str]
    sort: str
    descending: bool
    limit: int
    offset: int
    after: str | None


def _order(key: sa.ColumnElement[Any], asset_id: sa.ColumnElement[Any], descending: bool) -> list[Any]:
    """A listing's order: the sort key, then the id (the tie-break), both the same way."""
    return [key.desc(), asset_id.desc()] if descending else [key.asc(), asset_id.asc()]


def _term_selects(tenant_id: str, tags: list[str], metadata: dict[str, str]) -> list[sa.Select[Any]]:
    """The ids of the tenant's assets with each tag and each metadata pair, one SELECT for each."""
    selects = [
        sa.select(asset_tags.c.asset_id).where(asset_tags.c.tenant_id == tenant_id, asset_tags.c.tag == tag)
        for tag in tags
    ]
    for key, value in metadata.items():
        selects.append(
            sa.select(asset_metadata.c.asset_id).where(
                asset_metadata.c.tenant_id == tenant_id, asset_metadata.c.key == key, asset_metadata.c.value == value
            )
        )
    return selects


def _driving_term(
    tenant_id: str, tags: list[str], metadata: dict[str, str]
) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """The side table rows a filtered listing walks: those of its first tag, or else of its first
    metadata pair; and the conditions that pick them."""
    if tags:
        terms = asset_tags.alias("terms")
        return terms, [terms.c.tenant_id == tenant_id, terms.c.tag == tags[0]]
    key, value = next(iter(metadata.items()))
    terms = asset_metadata.alias("terms")
    return terms, [terms.c.tenant_id == tenant_id, terms.c.key == key, terms.c.value == value]


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, tenant_id: str, *, kind: str, asset_id: str | None = None, conn: Conn | None = None, **fields: Any
    ) -> Asset:
        """A new asset (``mda_`` id unless ``asset_id``); ``fields`` are any of :class:`Asset`'s."""
        created = now()
        values = {**_defaults(kind), **fields, "id": asset_id or new_asset_id(), "tenant_id": tenant_id}
        asset = Asset(**values, created_at=created, updated_at=created)
        await self.db.execute(INSERT_ASSET, conn, vars(asset))
        return asset

    async def get(self, tenant_id: str, asset_id: str, conn: Conn | None = None) -> Asset | None:
        statement = ASSETS.select().where(assets.c.tenant_id == tenant_id, assets.c.id == asset_id)
        return ASSETS.first(await self.db.execute(statement, conn))

    async def by_id(self, asset_id: str, conn: Conn | None = None) -> Asset | None:
        """The asset with this id, whoever's it is (for URLs that carry their own proof, such as signed links)."""
        return ASSETS.first(await self.db.execute(ASSETS.select().where(assets.c.id == asset_id), conn))

    async def by_file(self, file_id: str, conn: Conn | None = None) -> Asset | None:
        return ASSETS.first(await self.db.execute(ASSETS.select().where(assets.c.file_id == file_id), conn))

    async def by_stream(self, stream_id: str, conn: Conn | None = None) -> list[Asset]:
        """The assets whose renditions a stream makes."""
        return ASSETS.all(await self.db.execute(ASSETS.select().where(assets.c.stream_id == stream_id), conn))

    async def by_sha256(self, tenant_id: str, sha256: str, conn: Conn | None = None) -> Asset | None:
        """The tenant's live asset with these bytes (the oldest, should there be several)."""
        statement = (
            ASSETS.select()
            .where(
                assets.c.tenant_id == tenant_id,
                assets.c.sha256 == sha256,
                assets.c.status.not_in([Status.DELETED.value, Status.FAILED.value]),
            )
            .order_by(assets.c.created_at)
            .limit(1)
        )
        return ASSETS.first(await self.db.execute(statement, conn))

    async def update(self, tenant_id: str, asset_id: str, conn: Conn | None = None, **fields: Any) -> Asset | None:
        """Change ``fields`` (not the status: see :meth:`advance`); the asset after, None if none."""
        if "status" in fields:
            raise ValueError("status changes go through advance()")
        statement = (
            sa.update(assets)
            .where(assets.c.tenant_id == tenant_id, assets.c.id == asset_id)
            .values(**fields, updated_at=now())
            .returning(*ASSETS.columns)
        )
        return ASSETS.first(await self.db.execute(statement, conn))

    async def advance(self, asset_id: str, status: Status, conn: Conn | None = None, **fields: Any) -> bool:
        """Move the asset to ``status`` (with ``fields``) if the state machine allows it from where it is.

        The check and the write are one statement, so two writers racing cannot move it backwards.
        """
        return await self._advance(assets.c.id == asset_id, status, conn, **fields) == 1

    async def advance_for_stream(self, stream_id: str, status: Status, conn: Conn | None = None, **fields: Any) -> int:
        """:meth:`advance` the assets whose renditions a stream makes; how many moved."""
        return await self._advance(assets.c.stream_id == stream_id, status, conn, **fields)

    async def _advance(self, which: sa.ColumnElement[bool], status: Status, conn: Conn | None, **fields: Any) -> int:
        allowed = [current.value for current in Status if can_move(current, status)]
        statement = (
            sa.update(assets)
            .where(which, assets.c.status.in_(allowed))
            .values(status=status.value, **fields, updated_at=now())
        )
        return (await self.db.execute(statement, conn)).rowcount

    async def page(
        self,
        tenant_id: str,
        *,
        kinds: list[str] | None = None,
        statuses: list[Status] | None = None,
        search: str | None = None,
        folder: str | list[str] | None = None,
        sort: str = "created_at",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
        after: str | None = None,
        include_deleted: bool = False,
        tags: list[str] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> tuple[list[Asset], int]:
        """One page of the tenant's assets and how many match in all.

        ``folder`` keeps the assets of one folder (or of any of a list of them). ``search`` matches
        title, description and tags (case-insensitive substring); ``tags`` keeps the
        assets with every one of these tags, ``metadata`` those with each of these key/value pairs.
        Without those filters the total is read from ``asset_counts``. With them, the listing reads
        ``asset_tags`` / ``asset_metadata``, which carry the kind, status and sort keys (see
        :meth:`_by_terms`). ``after`` is a cursor: the id of the last asset of the previous page (ids
        sort with creation time, so with the default order a cursor page is stable while assets are
        added).
        """
        if sort not in SORTABLE:
            raise ValueError(f"cannot sort by {sort!r}")
        scope = (tenant_id, kinds, statuses, include_deleted)
        short = bool(search) and len(search or "") < TRIGRAM
        window = await self._short_search_window(scope) if short else None
        narrowed = self._narrowed(search, folder, window)
        listing = _Listing(
            scope, narrowed, tags or [], metadata or {}, sort, descending, min(limit, MAX_PAGE), offset, after
        )
        if (tags or metadata) and sort in CARRIED_SORTS:
            counted, listed = self._by_terms(listing)
        else:
            # a short term's matches in the window are sorted, not looked for along the sort's own
            # index, which would pass every asset outside the window (as both databases otherwise do)
            counted, listed = self._by_assets(listing, short)
        total = int((await self.db.execute(counted)).scalar_one())
        if total <= offset:  # nothing on this page: not looked for again
            return [], total
        return ASSETS.all(await self.db.execute(listed)), total

    def _narrowed(
        self, search: str | None, folder: str | list[str] | None, window: float | None
    ) -> list[sa.ColumnElement[bool]]:
        """The folder and search conditions of a listing, on ``assets`` (``window``: see
        :meth:`_short_search_window`)."""
        where: list[sa.ColumnElement[bool]] = []
        if isinstance(folder, list):
            where.append(assets.c.folder.in_(folder))
        elif folder is not None:
            where.append(assets.c.folder == folder)
        if search and len(search) < TRIGRAM:
            if window is not None:
                where.append(assets.c.created_at >= window)
            pattern = f"%{search.lower()}%"
            searched = SHORT_SEARCHED if self.db.dialect == "postgresql" else SEARCHED_RAW
            where.append(sa.or_(*(expression.like(pattern) for expression in searched)))
        elif search:
            where.append(self._matches(search))
        return where

    async def _short_search_window(self, scope: Scope) -> float | None:
        """Where a search term of one or two characters is looked for, as the creation time of the
        oldest asset looked at (None: all of them).

        No trigram index can look such a term up, so it is matched (as :meth:`_matches` does) in
        the tenant's :data:`SHORT_SEARCH_WINDOW` newest assets of the listing's kinds and statuses
        only: the count and the page read at most that many rows, instead of every row of the
        search index (SQLite) or every asset of the tenant. On SQLite such a term folds ASCII case
        only (LIKE's)."""
        statement = (
            sa.select(assets.c.created_at)
            .where(*self._scope(assets, *scope))
            .order_by(assets.c.created_at.desc())
            .limit(1)
            .offset(SHORT_SEARCH_WINDOW - 1)
        )
        found = (await self.db.execute(statement)).scalar()
        return None if found is None else float(found)

    def _by_assets(self, listing: _Listing, unindexed: bool = False) -> tuple[sa.Select[Any], sa.Select[Any]]:
        """A listing read off ``assets``' own indexes (the count and the page), the tag and metadata
        filters (with a sort the side tables do not carry) as lookups into them. ``unindexed``: the
        sort key as an expression no index has (the same order), so the rows are sorted, not walked."""
        scope, narrowed, tags, metadata = listing.scope, listing.narrowed, listing.tags, listing.metadata
        sort, descending, after = listing.sort, listing.descending, listing.after
        where = [*self._scope(assets, *scope), *narrowed]
        where += [assets.c.id.in_(select) for select in _term_selects(scope[0], tags, metadata)]
        if not (narrowed or tags or metadata):  # no filter beyond kind and status
            counted = sa.select(sa.func.coalesce(sa.func.sum(asset_counts.c.n), 0)).where(
                *self._scope(asset_counts, *scope)
            )
        else:
            counted = sa.select(sa.func.count()).select_from(assets).where(*where)
        # titles sort as people read
        column: sa.ColumnElement[Any] = sa.func.lower(assets.c.title) if sort == "title" else assets.c[sort]
        if unindexed and sort != "created_at":  # created_at: the window is read in that order already
            column = column.concat("") if sort == "title" else column + 0
        if after is not None:
            where.append(assets.c.id < after if descending else assets.c.id > after)
        order = _order(column, assets.c.id, descending)
        return counted, ASSETS.select().where(*where).order_by(*order).limit(listing.limit).offset(listing.offset)

    def _by_terms(self, listing: _Listing) -> tuple[sa.Select[Any], sa.Select[Any]]:
        """A tag or metadata filtered listing, answered from the side table of its first tag (or
        pair): its rows carry kind, status and the sort keys, and each sort has an index on them
        (tenant, term, sort key, id, kind, status), so the count is one range of an index and the page
        is read off one in order; only the page's own assets are read from ``assets``. Further tags
        and pairs are checked on the side tables' primary keys, folder and search against the
        matching assets."""
        scope, narrowed, tags, metadata = listing.scope, listing.narrowed, listing.tags, listing.metadata
        sort, descending, after = listing.sort, listing.descending, listing.after
        tenant_id = scope[0]
        terms, where = _driving_term(tenant_id, tags, metadata)
        where += self._scope(terms, *scope)
        for other_tag in tags[1:]:
            other = asset_tags.alias()
            where.append(sa.exists().where(other.c.asset_id == terms.c.asset_id, other.c.tag == other_tag))
        for key, value in list(metadata.items())[0 if tags else 1 :]:
            pair = asset_metadata.alias()
            where.append(
                sa.exists().where(pair.c.asset_id == terms.c.asset_id, pair.c.key == key, pair.c.value == value)
            )
        if narrowed:
            where.append(terms.c.asset_id.in_(sa.select(assets.c.id).where(assets.c.tenant_id == tenant_id, *narrowed)))
        counted = sa.select(sa.func.count()).select_from(terms).where(*where)
        if after is not None:
            where.append(terms.c.asset_id < after if descending else terms.c.asset_id > after)
        sort_key = terms.c[CARRIED_SORTS[sort]]
        chosen = (
            sa.select(terms.c.asset_id, sort_key.label("sort_key"))
            .where(*where)
            .order_by(*_order(sort_key, terms.c.asset_id, descending))
            .limit(listing.limit)
            .offset(listing.offset)
            .subquery("chosen")
        )
        listed = (
            ASSETS.select()
            .join_from(assets, chosen, assets.c.id == chosen.c.asset_id)
            .order_by(*_order(chosen.c.sort_key, chosen.c.asset_id, descending))
        )
        return counted, listed

    @staticmethod
    def _scope(
        table: sa.FromClause,
        tenant_id: str,
        kinds: list[str] | None,
        statuses: list[Status] | None,
        include_deleted: bool,
    ) -> list[sa.ColumnElement[bool]]:
        """The tenant, kind and status conditions of a listing, on ``assets``, ``asset_counts`` or a
        side table (which carry kind and status)."""
        where: list[sa.ColumnElement[bool]] = [table.c.tenant_id == tenant_id]
        if not include_deleted:
            where.append(table.c.status != Status.DELETED.value)
        if kinds:
            where.append(table.c.kind.in_(kinds))
        if statuses:
            where.append(table.c.status.in_([status.value for status in statuses]))
        return where

    def _matches(self, search: str) -> sa.ColumnElement[bool]:
        """Title, description or tags hold ``search`` (case-insensitive; ``%`` and ``_`` are LIKE's).

        PostgreSQL finds the rows through the pg_trgm indexes on these very expressions; SQLite through
        its FTS5 trigram table, whose LIKE is case-insensitive and uses the index.
        """
        pattern = f"%{search.lower()}%"
        if self.db.dialect == "postgresql":
            return sa.or_(*(expression.like(pattern) for expression in SEARCHED))
        found = sa.union(
            *(
                sa.select(asset_search.c.rowid).where(asset_search.c[name].like(pattern))
                for name in ("title", "description", "tags")
            )
        )
        rows = sa.select(asset_search_rows.c.asset_id).where(asset_search_rows.c.id.in_(found))
        return assets.c.id.in_(rows)

    async def seek(
        self,
        tenant_id: str,
        *,
        kinds: list[str] | None = None,
        statuses: list[str] | None = None,
        created_from: float | None = None,
        created_to: float | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 50,
    ) -> list[Asset]:
        """A keyset page of the tenant's assets, newest first (created_at, then id, descending).

        ``after`` is the (created_at, id) of the last asset of the page before; the page holds the
        assets strictly after it in that order, so no offset is scanned and assets added meanwhile
        neither shift nor repeat what a client pages through. ``created_from`` is inclusive,
        ``created_to`` exclusive.
        """
        where: list[sa.ColumnElement[bool]] = [assets.c.tenant_id == tenant_id]
        where.append(assets.c.status.in_(statuses) if statuses else assets.c.status != Status.DELETED.value)
        if kinds:
            where.append(assets.c.kind.in_(kinds))
        if created_from is not None:
            where.append(assets.c.created_at >= created_from)
        if created_to is not None:
            where.append(assets.c.created_at < created_to)
        if after is not None:
            created, asset_id = after
            where.append(
                sa.or_(assets.c.created_at < created, sa.and_(assets.c.created_at == created, assets.c.id < asset_id))
            )
        statement = (
            ASSETS.select()
            .where(*where)
            .order_by(assets.c.created_at.desc(), assets.c.id.desc())
            .limit(min(limit, MAX_PAGE + 1))
        )
        return ASSETS.all(await self.db.execute(statement))


class RenditionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        asset_id: str,
        kind: str,
        name: str,
        *,
        status: Status = Status.QUEUED,
        conn: Conn | None = None,
        **fields: Any,
    ) -> Rendition:
        created = now()
        values = {"spec": {}, "key": None, "size": None, "width": None, "height": None, "error": None, **fields}
        rendition = Rendition(
            id=new_id("rnd"),
            asset_id=asset_id,
            kind=kind,
            name=name,
            status=status.value,
            **values,
            created_at=created,
            updated_at=created,
        )
        await self.db.execute(sa.insert(renditions).values(**vars(rendition)), conn)
        return rendition

    async def list(self, asset_id: str) -> list[Rendition]:
        statement = RENDITIONS.select().where(renditions.c.asset_id == asset_id).order_by(renditions.c.created_at)
        return RENDITIONS.all(await self.db.execute(statement))

    async def update(self, rendition_id: str, conn: Conn | None = None, **fields: Any) -> Rendition | None:
        if isinstance(fields.get("status"), Status):
            fields["status"] = fields["status"].value
        statement = (
            sa.update(renditions)
            .where(renditions.c.id == rendition_id)
            .values(**fields, updated_at=now())
            .returning(*RENDITIONS.columns)
        )
        return RENDITIONS.first(await self.db.execute(statement, conn))


class CaptionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        asset_id: str,
        language: str,
        *,
        format: str,
        key: str,
        label: str = "",
        approved: bool = True,
        source: str = "manual",
        conn: Conn | None = None,
    ) -> Caption:
        caption = Caption(new_id("cap"), asset_id, language, label, format, key, approved, source, now())
        await self.db.execute(sa.insert(captions).values(**vars(caption)), conn)
        return caption

    async def list(self, asset_id: str) -> list[Caption]:
        statement = CAPTIONS.select().where(captions.c.asset_id == asset_id).order_by(captions.c.created_at)
        return CAPTIONS.all(await self.db.execute(statement))

    async def for_assets(self, asset_ids: Sequence[str]) -> dict[str, Sequence[Caption]]:
        """The captions of several assets (one query), by asset id."""
        found: dict[str, Sequence[Caption]] = {asset_id: [] for asset_id in asset_ids}
        if asset_ids:
            statement = CAPTIONS.select().where(captions.c.asset_id.in_(asset_ids)).order_by(captions.c.created_at)
            for caption in CAPTIONS.all(await self.db.execute(statement)):
                found[caption.asset_id] = [*found[caption.asset_id], caption]
        return found

    async def get(self, asset_id: str, caption_id: str) -> Caption | None:
        statement = CAPTIONS.select().where(captions.c.asset_id == asset_id, captions.c.id == caption_id)
        return CAPTIONS.first(await self.db.execute(statement))

    async def update(self, asset_id: str, caption_id: str, **fields: Any) -> Caption | None:
        statement = (
            sa.update(captions)
            .where(captions.c.asset_id == asset_id, captions.c.id == caption_id)
            .values(**fields)
            .returning(*CAPTIONS.columns)
        )
        return CAPTIONS.first(await self.db.execute(statement))

    async def delete(self, asset_id: str, caption_id: str) -> bool:
        statement = sa.delete(captions).where(captions.c.asset_id == asset_id, captions.c.id == caption_id)
        return (await self.db.execute(statement)).rowcount == 1


class TranscriptRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self,
        asset_id: str,
        language: str,
        text: str,
        cues: list[dict[str, Any]],
        *,
        caption_id: str | None = None,
        conn: Conn | None = None,
    ) -> Transcript:
        """The asset's transcript in ``language``, replacing an earlier one."""
        transcript = Transcript(new_id("trn"), asset_id, caption_id, language, text, cues, now())
        async with self.db.joining(conn) as tx:
            await tx.execute(
                sa.delete(transcripts).where(transcripts.c.asset_id == asset_id, transcripts.c.language == language)
            )
            await tx.execute(sa.insert(transcripts).values(**vars(transcript)))
        return transcript

    async def get(self, asset_id: str, language: str | None = None) -> Transcript | None:
        statement = TRANSCRIPTS.select().where(transcripts.c.asset_id == asset_id)
        if language is not None:
            statement = statement.where(transcripts.c.language == language)
        return TRANSCRIPTS.first(await self.db.execute(statement.order_by(transcripts.c.created_at.desc()).limit(1)))
