"""The catalogue's one state machine and each dialect's words for it."""

from __future__ import annotations

import pytest

from origin.catalogue.status import (
    UPLOAD_STATUS_TEXT,
    VOCABULARIES,
    Status,
    can_move,
    from_dialect,
    shown_as,
    vocabulary,
)

S = Status


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.QUEUED, S.PROCESSING, True),
        (S.QUEUED, S.READY, True),
        (S.PROCESSING, S.PROCESSING, True),
        (S.PROCESSING, S.STORING, True),
        (S.STORING, S.READY, True),
        (S.PROCESSING, S.FAILED, True),
        (S.QUEUED, S.QUARANTINED, True),
        (S.READY, S.DELETED, True),
        (S.FAILED, S.DELETED, True),
        (S.PROCESSING, S.QUEUED, False),
        (S.STORING, S.PROCESSING, False),
        (S.READY, S.PROCESSING, False),
        (S.READY, S.FAILED, False),
        (S.FAILED, S.READY, False),
        (S.QUARANTINED, S.READY, False),
        (S.DELETED, S.READY, False),
    ],
)
def test_the_machine_only_moves_forward(current: Status, new: Status, allowed: bool) -> None:
    assert can_move(current, new) is allowed


@pytest.mark.parametrize("dialect", sorted(VOCABULARIES))
def test_every_dialect_names_every_state(dialect: str) -> None:
    assert set(VOCABULARIES[dialect]) == set(Status)  # type: ignore[index]


@pytest.mark.parametrize(
    ("dialect", "words"),
    [
        ("aauti", ("pending", "processing", "downloading", "ready", "failed")),
        ("videos", ("new", "transcoding", "done", "fail", "deleted")),
        ("uploads", (1, 3, 5, 6, 7)),
        ("media", ("pending", "transcoding", "ready", "failed", "quarantined", "deleted")),
        ("editor", ("upload", "convert", "ready")),
    ],
)
def test_vocabularies_in_machine_order(dialect: str, words: tuple[str | int, ...]) -> None:
    assert vocabulary(dialect) == words  # type: ignore[arg-type]


def test_upload_codes_have_their_text() -> None:
    assert {code: UPLOAD_STATUS_TEXT[code] for code in vocabulary("uploads")} == {  # type: ignore[index]
        1: "pending",
        3: "processing",
        5: "uploading",
        6: "completed",
        7: "failed",
    }


def test_a_polling_client_never_sees_a_status_go_backwards() -> None:
    path = [S.QUEUED, S.PROCESSING, S.STORING, S.READY]
    for dialect in VOCABULARIES:
        shown = [vocabulary(dialect).index(shown_as(dialect, status)) for status in path]
        assert shown == sorted(shown), dialect


def test_a_filter_word_means_the_earliest_state_it_names() -> None:
    assert from_dialect("videos", "transcoding") is S.PROCESSING
    assert from_dialect("uploads", 5) is S.STORING
    assert from_dialect("media", "quarantined") is S.QUARANTINED
    with pytest.raises(ValueError, match="'finished' is not a videos status"):
        from_dialect("videos", "finished")
