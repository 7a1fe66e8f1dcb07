"""The scrubbing storyboard: one sprite of thumbnails and a WebVTT track pointing into it (``#xywh=``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

THUMB_WIDTH = 160
COLUMNS = 10
MAX_THUMBS = 100
IMAGE = "storyboard.jpg"
VTT = "storyboard.vtt"


@dataclass(frozen=True)
class Storyboard:
    interval: float  # seconds between thumbnails
    count: int
    width: int  # of one thumbnail
    height: int

    @property
    def columns(self) -> int:
        return min(self.count, COLUMNS)

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    def filter(self) -> str:
        """ffmpeg filters turning the video into the sprite (one frame out)."""
        return f"fps=1/{self.interval:g},scale={self.width}:{self.height},setsar=1,tile={self.columns}x{self.rows}"

    def vtt(self, duration: float) -> str:
        """WebVTT cues: each thumbnail's time range → its rectangle in the sprite."""
        lines = ["WEBVTT", ""]
        for i in range(self.count):
            start, end = i * self.interval, min((i + 1) * self.interval, duration)
            x, y = (i % self.columns) * self.width, (i // self.columns) * self.height
            lines += [f"{_ts(start)} --> {_ts(end)}", f"{IMAGE}#xywh={x},{y},{self.width},{self.height}", ""]
        return "\n".join(lines)


def plan_storyboard(duration: float, width: int, height: int) -> Storyboard:
    """At most :data:`MAX_THUMBS` thumbnails, one per whole second or more, :data:`THUMB_WIDTH` wide."""
    interval = float(max(1, math.ceil(duration / MAX_THUMBS)))
    count = max(1, math.ceil(duration / interval))
    thumb_height = max(2, round(THUMB_WIDTH * height / width / 2) * 2)
    return Storyboard(interval, count, THUMB_WIDTH, thumb_height)


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
