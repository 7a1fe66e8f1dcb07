"""Local speech recognition with PocketSphinx (caption provider ``pocketsphinx``, English).

The pocketsphinx wheel ships its US English model, so nothing is downloaded at run time. A media file
is recognised in four steps:

1. ffmpeg extracts its first audio stream as 16 kHz mono PCM (the model's rate);
2. ffmpeg's ``silencedetect`` finds the pauses and the audio is cut in their middles into chunks
   (:mod:`.silences`) of about ``min(chunk_seconds, duration / workers)`` seconds, at least
   ``min_chunk_seconds``;
3. a pool of ``workers`` processes (default: one per core) recognises the chunks in parallel, each
   with its own decoder (:mod:`.decode`); progress is reported as chunks finish;
4. the words, timed from the start of the file, are grouped into cues (:func:`mediaedge.ai.cues_from_words`).

Settings, ``[plugins.pocketsphinx]``: ``workers`` (0 = one per core), ``chunk_seconds`` (30),
``min_chunk_seconds`` (5), ``max_chunk_seconds`` (60), ``silence_db`` (-35), ``silence_seconds`` (0.3),
and the decoder's search, tuned for speed (PocketSphinx's own defaults in brackets): ``maxhmmpf``
(3000 [30000]) and ``maxwpf`` (5 [unlimited]) cap the HMMs and distinct words kept active per frame,
``fwdflat`` (off [on]) skips the second, flat-lexicon pass; ``bestpath`` (on), ``ds`` (1, frame
downsampling) and ``topn`` (4, Gaussians scored per codebook) are PocketSphinx's. On the espeak-ng
speech of the tests this does about half the decoder's work per second for the same word error rate
within the noise (loadtests/bench_captions.py prints both).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Self

from mediaedge import hookimpl
from mediaedge.ai import AIUnavailable, CaptionProvider, Transcript, UnsupportedLanguage, Word, cues_from_words
from mediaedge.ai.media import extract_audio, pcm_seconds
from mediaedge.ai.providers import Report
from mediaedge.settings import FieldError, PositiveInt, Settings, StrictBool, StrictFloat, StrictInt, settings_table
from mediaedge_ai_pocketsphinx.decode import init_worker, recognise_chunk
from mediaedge_ai_pocketsphinx.silences import find_silences, plan_chunks

RATE = 16000


@settings_table
class PocketSphinxSettings:
    """``[plugins.pocketsphinx]``."""

    workers: StrictInt = 0
    chunk_seconds: StrictFloat = 30.0
    min_chunk_seconds: StrictFloat = 5.0
    max_chunk_seconds: StrictFloat = 60.0
    silence_db: StrictFloat = -35.0
    silence_seconds: StrictFloat = 0.3
    maxhmmpf: StrictInt = 3000
    maxwpf: StrictInt = 5
    fwdflat: StrictBool = False
    bestpath: StrictBool = True
    ds: PositiveInt = 1
    topn: PositiveInt = 4

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise FieldError("workers", "must not be negative (0 = one per core)")
        for name in ("maxhmmpf", "maxwpf"):
            if getattr(self, name) == 0 or getattr(self, name) < -1:
                raise FieldError(name, "must be positive, or -1 for no limit")
        if not 0 < self.min_chunk_seconds <= self.chunk_seconds <= self.max_chunk_seconds:
            raise FieldError("chunk_seconds", "need 0 < min_chunk_seconds <= chunk_seconds <= max_chunk_seconds")

    @property
    def processes(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def decoder(self) -> dict[str, int | bool]:
        """The pocketsphinx ``Config`` options these settings set."""
        names = ("maxhmmpf", "maxwpf", "fwdflat", "bestpath", "ds", "topn")
        return {name: getattr(self, name) for name in names}


class PocketSphinxProvider(CaptionProvider):
    name = "pocketsphinx"
    languages = frozenset({"en"})

    def __init__(self, options: PocketSphinxSettings) -> None:
        self.options = options

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.plugin("pocketsphinx", PocketSphinxSettings))

    def plan(self, silences: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
        """The chunks to recognise: spread over the workers, cut at pauses."""
        o = self.options
        target = max(o.min_chunk_seconds, min(o.chunk_seconds, duration / o.processes))
        return plan_chunks(silences, duration, target=target, longest=o.max_chunk_seconds)

    async def transcribe(
        self, media: Path, language: str, *, work_dir: Path, report: Report | None = None
    ) -> Transcript:
        if not self.supports(language):
            raise UnsupportedLanguage("caption", language, [self.name], None, "plugins.ai.captions")
        pcm = await extract_audio(media, work_dir / "speech.s16le", rate=RATE)
        duration = pcm_seconds(pcm, RATE)
        silences = await find_silences(
            pcm,
            RATE,
            duration,
            noise_db=self.options.silence_db,
            min_seconds=self.options.silence_seconds,
            deadline=max(60.0, duration),
        )
        chunks = self.plan(silences, duration)
        words = await self._recognise(pcm, chunks, duration, report)
        return Transcript(
            language,
            tuple(cues_from_words(words)),
            self.name,
            {"chunks": len(chunks), "workers": min(self.options.processes, len(chunks))},
        )

    async def _recognise(
        self, pcm: Path, chunks: list[tuple[float, float]], duration: float, report: Report | None
    ) -> list[Word]:
        loop = asyncio.get_running_loop()
        workers = min(self.options.processes, len(chunks)) or 1
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=init_worker, initargs=(RATE, self.options.decoder)
        ) as pool:
            pending = [loop.run_in_executor(pool, recognise_chunk, str(pcm), RATE, a, b) for a, b in chunks]
            try:
                done = 0.0
                for (start, end), future in zip(chunks, pending, strict=True):
                    await future
                    done += end - start
                    if report:
                        await report(min(100.0, 100 * done / duration))
            except BrokenProcessPool:
                raise AIUnavailable("pocketsphinx: a recognition process died (out of memory?)") from None
            except BaseException:
                for future in pending:
                    future.cancel()  # queued chunks; running ones finish before the pool closes
                raise
        return [Word(*t) for future in pending for t in future.result()]


@hookimpl
def register_caption_providers() -> list[type[CaptionProvider]]:
    return [PocketSphinxProvider]


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"pocketsphinx": PocketSphinxSettings}
