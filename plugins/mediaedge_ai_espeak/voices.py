"""Reading ``espeak-ng --voices`` and ``--voices=variant``, and choosing a voice for a request.

A voice id is its language column value (``en-us``, ``fr-fr``) — or, for a second voice of the same
language, its file (``sit/yue-Latn-jyutping``) — optionally with a variant (``en-us+klatt``, ``de+f3``):
the ``-v`` argument espeak-ng takes. An empty voice picks the voice
whose language is the requested tag, else the one espeak-ng ranks first for it (its "other
languages" column, ``(en 2)``), else the first voice of the same primary language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mediaedge.ai import AIRejected, Voice
from mediaedge.ai.providers import primary_language

_RANK = re.compile(r"\(([A-Za-z0-9-]+) (\d+)\)")


@dataclass(frozen=True)
class Catalogue:
    voices: tuple[Voice, ...]
    #: Tag → (rank, voice id) for every ``(tag rank)`` of the "other languages" column.
    ranked: tuple[tuple[str, int, str], ...]
    variants: frozenset[str]

    def choose(self, voice: str, language: str) -> str:
        """The ``-v`` argument for a request; ``AIRejected`` for an unknown voice or one of another language."""
        if not voice:
            return self._default(language)
        base, _, variant = voice.partition("+")
        found = next((v for v in self.voices if v.id.lower() == base.lower()), None)
        if found is None:
            raise AIRejected(f"voice: espeak has no voice {voice!r} (GET the voice list for the ids)")
        if variant and variant not in self.variants:
            raise AIRejected(f"voice: espeak has no variant {variant!r} (known: {', '.join(sorted(self.variants))})")
        if primary_language(found.language) != primary_language(language):
            raise AIRejected(f"voice {voice!r} speaks {found.language}, not {language}")
        return voice

    def _default(self, language: str) -> str:
        tag = language.lower()
        exact = [v.id for v in self.voices if v.language == tag]
        ranked = sorted((rank, voice) for t, rank, voice in self.ranked if t == tag)
        same = [v.id for v in self.voices if primary_language(v.language) == primary_language(tag)]
        for choice in (exact, [voice for _, voice in ranked], same):
            if choice:
                return choice[0]
        raise AIRejected(f"language: espeak has no voice for {language!r}")


def _rows(listing: str) -> list[list[str]]:
    """The rows of a ``--voices`` table: Pty, Language, Age/Gender, VoiceName, File, other languages."""
    return [line.split(None, 5) for line in listing.splitlines()[1:] if len(line.split()) >= 5]


def parse_catalogue(voices_listing: str, variants_listing: str) -> Catalogue:
    voices: list[Voice] = []
    ranked = []
    for row in _rows(voices_listing):
        _, language, age_gender, name, file, *other = row
        gender = {"M": "male", "F": "female"}.get(age_gender.rpartition("/")[2])
        taken = any(v.id == language.lower() for v in voices)
        voices.append(Voice(file if taken else language.lower(), name.replace("_", " "), language.lower(), gender))
        ranked += [(tag.lower(), int(rank), language.lower()) for tag, rank in _RANK.findall(" ".join(other))]
    variants = frozenset(row[4].rpartition("/")[2] for row in _rows(variants_listing))
    return Catalogue(tuple(voices), tuple(ranked), variants)
