"""The origin's API dialects: one package per API the product speaks, all over one catalogue.

A dialect is translation only: it parses a request, calls a shared service (ingest, jobs, tokens,
the store's repositories) and shapes the answer in its own envelope and vocabulary
(:mod:`origin.catalogue.status`). It holds no SQL, runs no ffmpeg and makes no storage calls of its own.
Each package exports ``routes``, mounted at the origin's root by :mod:`origin.app`.

- :mod:`origin.api.aauti` — the upload / API / delivery integration API (``/upload``, ``/files``,
  ``/auth``, ``/streams/v1``, ``/webhooks``, ``/embed``).
- :mod:`origin.api.videos` — the video objects API (``/api/videos``): video objects with custom encoding
  qualities, chunked part upload, asset URLs that lead to the edge.
- :mod:`origin.api.uploads` — the video uploads API (``/api/client/v1/uploads``).
- :mod:`origin.api.media` — the media service API (``/api/v1/media``).
"""
