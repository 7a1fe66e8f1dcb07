"""The media service API (``/api/v1/media``)."""
