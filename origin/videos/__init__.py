"""Video objects: the services behind the ``/api/videos`` dialect (:mod:`origin.api.videos`).

A video object is a catalogue asset (:mod:`origin.catalogue`) of kind ``video``: the same record every
other dialect shows, with one id for the asset and its source file. Here it is made before its media
(status ``queued``), gets its media in parts (:mod:`origin.videos.parts`), which complete into the
source file and a stream of its ``qualities`` ladder made by the streams machinery
(:mod:`origin.streams`), and is played through the edge (:mod:`origin.videos.playback`).

- :mod:`origin.videos.objects` — create, get, list, update, delete; the ``qualities`` of a video.
- :mod:`origin.videos.parts` — chunked upload (Content-Range + MD5) and completion.
- :mod:`origin.videos.playback` — asset URLs, signed edge URLs, thumbnails.
- :mod:`origin.videos.cost` — the transcoding price of a ladder.
- :mod:`origin.videos.events` — the ``video`` webhooks.
"""
