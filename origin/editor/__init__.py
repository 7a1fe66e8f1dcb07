"""The services behind the HTML5 video editor's backend API (:mod:`origin.api.editor`).

- :mod:`~origin.editor.sealed` — Fernet encryption of secrets kept at rest (S3 credentials, tokens).
- :mod:`~origin.editor.developers` — developer profiles: API key, callback URL, custom URLs, output
  bucket, the editor's CORS origins.
- :mod:`~origin.editor.sessions` — editor users (sessions) and presence over the WebSocket.
- :mod:`~origin.editor.media` — the catalogue as the editor's media files and folders.
- :mod:`~origin.editor.thumbnails` — frame-accurate PNG thumbnails with ffmpeg; the timeline strip
  prepared at ingest.
- :mod:`~origin.editor.uploads` — chunked upload sessions (``Content-Range``) over the resumable
  upload machinery of :mod:`origin.tus`.
- :mod:`~origin.editor.imports` — imports by URL and from an S3 bucket.
- :mod:`~origin.editor.mediainfo` — media-info tasks for integrators that serve their own URLs.
- :mod:`~origin.editor.callbacks` — callback events through the webhook outbox.
"""
