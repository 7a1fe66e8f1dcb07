"""Ids of catalogue records: ``mda_`` + a ULID (sortable by creation time, 128 bits of which 80 random).

An asset and its source file share one id, so every API names a media item the same way; files that
an API made before their asset existed (seed-000 uploads) lend the asset their own id instead.
"""

from __future__ import annotations

from ulid import ULID


def new_asset_id() -> str:
    return f"mda_{ULID()}"


def new_id(prefix: str) -> str:
    """An id for a record hanging off an asset (``cap_…``, ``rnd_…``, ``trn_…``, ``key_…``)."""
    return f"{prefix}_{ULID()}"
