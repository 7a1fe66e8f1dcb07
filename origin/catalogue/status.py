"""One state machine for every catalogue record, and each API dialect's words for its states.

The machine only moves forward::

    queued → processing → storing → ready
       │          │          │
       └──────────┴──────────┴──→ failed | quarantined
    any state ──→ deleted

``storing`` is "the outputs are being written to their final storage". ``failed``, ``quarantined`` and
``deleted`` are terminal; ``ready`` can only be deleted. So a client that polls never sees a status go
backwards, whatever dialect it polls through.

Dialects name the states differently; :data:`VOCABULARIES` is the one table of those names. Where a
dialect has no word for a state, it shows the nearest earlier one it has (the upload API has no
``quarantined``: it shows ``7 failed``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    STORING = "storing"
    READY = "ready"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    DELETED = "deleted"


_ORDER = [Status.QUEUED, Status.PROCESSING, Status.STORING, Status.READY]
_TERMINAL = {Status.FAILED, Status.QUARANTINED, Status.DELETED}


def can_move(current: Status, new: Status) -> bool:
    """Whether the machine allows ``current`` → ``new`` (staying put is allowed: progress updates)."""
    if current == new or new == Status.DELETED:
        return True
    if current in _TERMINAL or current == Status.READY:
        return False
    if new in _TERMINAL:
        return True
    return _ORDER.index(new) > _ORDER.index(current)


Dialect = Literal["aauti", "videos", "uploads", "media", "editor"]

#: Each dialect's name for each state: the integration API's stream copies (aauti), video objects
#: (videos), uploads (numeric codes), the media service (media) and the editor backend (editor, whose
#: ``ready`` means "no further operation expected"; a failure shows in the entry's ``error`` object).
VOCABULARIES: dict[Dialect, dict[Status, str | int]] = {
    "aauti": {
        Status.QUEUED: "pending",
        Status.PROCESSING: "processing",
        Status.STORING: "downloading",
        Status.READY: "ready",
        Status.FAILED: "failed",
        Status.QUARANTINED: "failed",
        Status.DELETED: "failed",
    },
    "videos": {
        Status.QUEUED: "new",
        Status.PROCESSING: "transcoding",
        Status.STORING: "transcoding",
        Status.READY: "done",
        Status.FAILED: "fail",
        Status.QUARANTINED: "fail",
        Status.DELETED: "deleted",
    },
    "uploads": {
        Status.QUEUED: 1,
        Status.PROCESSING: 3,
        Status.STORING: 5,
        Status.READY: 6,
        Status.FAILED: 7,
        Status.QUARANTINED: 7,
        Status.DELETED: 7,
    },
    "media": {
        Status.QUEUED: "pending",
        Status.PROCESSING: "transcoding",
        Status.STORING: "transcoding",
        Status.READY: "ready",
        Status.FAILED: "failed",
        Status.QUARANTINED: "quarantined",
        Status.DELETED: "deleted",
    },
    "editor": {
        Status.QUEUED: "upload",
        Status.PROCESSING: "convert",
        Status.STORING: "convert",
        Status.READY: "ready",
        Status.FAILED: "ready",
        Status.QUARANTINED: "ready",
        Status.DELETED: "ready",
    },
}

#: The upload API's words beside its numeric codes.
UPLOAD_STATUS_TEXT = {1: "pending", 3: "processing", 5: "uploading", 6: "completed", 7: "failed"}


def shown_as(dialect: Dialect, status: Status) -> str | int:
    """How ``dialect`` shows ``status``."""
    return VOCABULARIES[dialect][status]


def vocabulary(dialect: Dialect) -> tuple[str | int, ...]:
    """The distinct words of ``dialect``, in the machine's order."""
    return tuple(dict.fromkeys(VOCABULARIES[dialect][status] for status in Status))


def from_dialect(dialect: Dialect, word: str | int) -> Status:
    """The earliest state ``dialect`` shows as ``word`` (a filter's meaning); ValueError if it has none."""
    for status in Status:
        if VOCABULARIES[dialect][status] == word:
            return status
    raise ValueError(f"{word!r} is not a {dialect} status")
