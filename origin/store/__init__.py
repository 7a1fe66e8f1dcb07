"""The metadata store: all SQL of the origin lives in this package, one repository per area.

``store.tenants``, ``store.buckets``, ``store.files``, ``store.uploads``, ``store.jobs``,
``store.streams``, ``store.webhooks``, ``store.signing_keys``, ``store.edges``, the catalogue's
``store.assets``, ``store.renditions``, ``store.captions``, ``store.transcripts`` and the tenants'
``store.api_keys``; the video objects API's ``store.video_parts`` and ``store.credits``; AI
generations and policies in ``store.ai``; the media API's ``store.media_uploads`` and
``store.rate_limits``; the dashboard's ``store.dashboard_sessions``, ``store.player_themes`` and
``store.stats`` (read-only aggregates); a change that spans areas runs their methods on one ``store.transaction()``.
"""

from __future__ import annotations

import contextlib

from origin.store.ai import AIRepository
from origin.store.api_keys import ApiKeyRepository
from origin.store.assets import AssetRepository, CaptionRepository, RenditionRepository, TranscriptRepository
from origin.store.dashboard import DashboardSessionRepository
from origin.store.db import Conn, Database, IntegrityError, UniqueViolation
from origin.store.edges import Edge, EdgeRepository
from origin.store.editor import EditorRepository
from origin.store.editor_work import EditorWorkRepository
from origin.store.files import FileMeta, FileRepository
from origin.store.jobs import JobRepository
from origin.store.media_uploads import MediaUpload, MediaUploadRepository
from origin.store.migrate import migrate
from origin.store.models import ApiKey, Asset, Bucket, Caption, FileRecord, Rendition, Tenant, Transcript
from origin.store.players import PlayerTheme, PlayerThemeRepository
from origin.store.rate_limits import RateDecision, RateLimitRepository
from origin.store.signing_keys import SigningKeyRepository
from origin.store.stats import StatsRepository
from origin.store.streams import StreamRepository
from origin.store.tenants import BucketRepository, TenantRepository
from origin.store.uploads import TusUpload, UploadRepository
from origin.store.videos import CreditRepository, VideoPartRepository
from origin.store.webhooks import WebhookRepository

__all__ = [
    "ApiKey",
    "Asset",
    "Bucket",
    "Caption",
    "Conn",
    "Edge",
    "FileMeta",
    "FileRecord",
    "IntegrityError",
    "MediaUpload",
    "PlayerTheme",
    "RateDecision",
    "Rendition",
    "Store",
    "Tenant",
    "Transcript",
    "TusUpload",
    "UniqueViolation",
    "open_store",
]


class Store:
    """The repositories of every area, on one :class:`~origin.store.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.buckets = BucketRepository(db)
        self.files = FileRepository(db)
        self.uploads = UploadRepository(db)
        self.jobs = JobRepository(db)
        self.streams = StreamRepository(db)
        self.webhooks = WebhookRepository(db)
        self.signing_keys = SigningKeyRepository(db)
        self.edges = EdgeRepository(db)
        self.editor = EditorRepository(db)
        self.editor_work = EditorWorkRepository(db)
        self.media_uploads = MediaUploadRepository(db)
        self.rate_limits = RateLimitRepository(db)
        self.api_keys = ApiKeyRepository(db)
        self.assets = AssetRepository(db)
        self.renditions = RenditionRepository(db)
        self.captions = CaptionRepository(db)
        self.transcripts = TranscriptRepository(db)
        self.video_parts = VideoPartRepository(db)
        self.credits = CreditRepository(db)
        self.ai = AIRepository(db)
        self.dashboard_sessions = DashboardSessionRepository(db)
        self.player_themes = PlayerThemeRepository(db)
        self.stats = StatsRepository(db)

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """One write transaction for changes of several areas (see :meth:`Database.transaction`)."""
        return self.db.transaction()

    async def close(self) -> None:
        await self.db.close()


async def open_store(url: str, *, migrate_schema: bool = True, pool_min: int = 1, pool_max: int = 10) -> Store:
    """Open the store at ``url``, migrated unless told otherwise (``database.migrate_on_start``)."""
    db = Database.open(url, pool_min=pool_min, pool_max=pool_max)
    if migrate_schema:
        await migrate(db)
    return Store(db)
