"""Recognising one chunk of 16 kHz mono PCM with PocketSphinx, in a worker process of a pool.

Each worker loads the decoder (the English model the pocketsphinx wheel ships) once, in
:func:`init_worker`; :func:`recognise_chunk` returns the chunk's words with times from the start of
the whole file. Fillers and silences (``<sil>``, ``[NOISE]``, ``++UH++``) are dropped and alternate
pronunciations (``the(2)``) named by their word.
"""

from __future__ import annotations

import re

from mediaedge.ai.media import SAMPLE_BYTES

#: ``(word, start, end, confidence)``: plain tuples cross the process boundary cheaply.
WordTuple = tuple[str, float, float, float]

_decoder = None
_ALTERNATE = re.compile(r"\(\d+\)$")


def init_worker(rate: int, options: dict[str, int | bool]) -> None:
    """Build this process's decoder (the pool's initializer) with the search ``options`` (pocketsphinx
    ``Config`` names)."""
    global _decoder
    from pocketsphinx import Decoder

    _decoder = Decoder(samprate=rate, loglevel="FATAL", **options)


def recognise_chunk(pcm_path: str, rate: int, start: float, end: float) -> list[WordTuple]:
    """The words of ``[start, end)`` seconds of ``pcm_path``."""
    assert _decoder is not None, "init_worker was not run"
    first = int(start * rate) * SAMPLE_BYTES
    with open(pcm_path, "rb") as f:
        f.seek(first)
        data = f.read(int(end * rate) * SAMPLE_BYTES - first)
    _decoder.start_utt()
    _decoder.process_raw(data, full_utt=True)
    _decoder.end_utt()
    frame_rate = float(_decoder.config["frate"])
    offset = first / (SAMPLE_BYTES * rate)
    words = []
    for seg in _decoder.seg():
        word = _ALTERNATE.sub("", seg.word)
        if word.startswith(("<", "[", "+")):
            continue
        words.append(
            (
                word,
                offset + seg.start_frame / frame_rate,
                offset + (seg.end_frame + 1) / frame_rate,
                round(float(seg.prob), 4),
            )
        )
    return words
