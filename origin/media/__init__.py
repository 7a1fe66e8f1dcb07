"""The services behind the ``/api/v1/media`` dialect (:mod:`origin.api.media`).

- :mod:`~origin.media.uploads` — presigned upload forms (S3's, or the origin's own :mod:`~origin.media.policy`),
  SHA-256 idempotency, finalize (hash, sniff, probe, register);
- :mod:`~origin.media.scan` — content sniffing and quarantine;
- :mod:`~origin.media.processing` — streams for video/audio, resized variants for images;
- :mod:`~origin.media.assets` — reading, readiness and deletion;
- :mod:`~origin.media.captions` / :mod:`~origin.media.tracks` — caption files, transcripts, and
  captions in HLS/DASH manifests;
- :mod:`~origin.media.delivery` — signed stream/variant/caption URLs and the edge lookup of asset objects;
- :mod:`~origin.media.limits` — per-user rate limits shared through the metadata DB.
"""
