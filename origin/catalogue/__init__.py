"""The one catalogue every API dialect reads and writes (DESIGN §10).

- A ``File`` is a stored object (key, size, checksum, access) — :mod:`origin.store`.
- An ``Asset`` is the catalogue entry of a file: kind (video, audio, image, other), title, description,
  tags, metadata, public or signed, status, sha256, poster, folder, owner user.
- A ``Rendition`` is one output of an asset (an HLS or DASH quality, a progressive MP4, an audio-only
  track, an image variant) with its own status; the ``/streams/v1`` stream copies are sets of renditions.
- ``Caption`` and ``Transcript`` hang off an asset.

Every record moves through one state machine (:mod:`origin.catalogue.status`); each dialect shows it in
its own vocabulary. Ids are opaque and stable across dialects.
"""
