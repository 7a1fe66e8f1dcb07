"""TUS 1.0.0 resumable uploads at ``/files`` (routes in :mod:`origin.api.aauti.tus`; operator notes in docs/tus.md).

- :mod:`~origin.tus.protocol`: headers, versions, URLs and ranges of the wire protocol.
- :mod:`~origin.tus.metadata`, :mod:`~origin.tus.checksum`: the Upload-Metadata and Upload-Checksum headers.
- :mod:`~origin.tus.locks`: one writer per upload, in this process (asyncio) and across processes (DB lease).
- :mod:`~origin.tus.spool`, :mod:`~origin.tus.receive`: the bytes on disk and how a PATCH body gets there.
- :mod:`~origin.tus.uploads`: the lifecycle on top (open under lock, finish into a bucket, remove).
- :mod:`~origin.tus.cleaner`: the background service that expires uploads and retries failed ingests.
"""
