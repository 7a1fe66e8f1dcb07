"""What an uploaded file really is: its kind from its bytes, and whether it must be quarantined.

The declared MIME type is checked against the content (``filetype``'s magic numbers for binary
formats, a look at the first bytes for markup and scripts, and ffprobe's findings for media):

- content that a browser or a shell would run — HTML, SVG with script, JavaScript, executables (PE,
  ELF, Mach-O), shell scripts — is **quarantined** whatever was declared, unless it was declared as
  exactly that kind of text (``text/plain``);
- content of another kind than declared (a "video" that is a PNG) **fails** the asset.

Plugins may quarantine more through the ``scan_asset`` hook (:mod:`mediaedge.hookspecs`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

from origin.probe import ProbeResult

SNIFF_BYTES = 8192
KINDS = ("video", "audio", "image", "other")

_EXECUTABLES = {
    "application/x-msdownload",
    "application/x-executable",
    "application/x-mach-binary",
    "application/x-elf",
    "application/x-sharedlib",
    "application/vnd.microsoft.portable-executable",
}
_MARKUP = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<\?php|<svg[^>]*>.*<script)", re.IGNORECASE | re.DOTALL
)
_SHEBANG = re.compile(rb"^#!\s*/")


@dataclass(frozen=True)
class Verdict:
    """``quarantine``/``failure`` give the reason when the asset is not usable; ``kind`` is what it is."""

    kind: str
    mime: str
    quarantine: str | None = None
    failure: str | None = None


def kind_of_mime(mime: str) -> str:
    major = mime.split("/", 1)[0]
    return major if major in ("video", "audio", "image") else "other"


def dangerous(head: bytes) -> str | None:
    """Why these first bytes are content that runs (markup, script, executable), or None."""
    guessed = filetype.guess(head)
    if guessed is not None and guessed.mime in _EXECUTABLES:
        return f"the content is an executable ({guessed.mime})"
    if head[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") or head[:2] == b"MZ":
        return "the content is an executable"
    text = head.lstrip(b"\xef\xbb\xbf")
    if _MARKUP.match(text):
        return "the content is HTML or script markup"
    if _SHEBANG.match(text):
        return "the content is a script"
    return None


def judge(head: bytes, declared_mime: str, declared_kind: str, found: ProbeResult) -> Verdict:
    """Check the bytes (``head``: the first :data:`SNIFF_BYTES`) and the probe against the declaration."""
    risk = dangerous(head)
    if risk is not None:
        return Verdict(declared_kind, declared_mime, quarantine=f"declared {declared_mime}, but {risk}")
    guessed = filetype.guess(head)
    sniffed = guessed.mime if guessed is not None else None
    if declared_kind in ("video", "audio") and sniffed is not None and sniffed.startswith("image/"):
        return Verdict(declared_kind, declared_mime, failure=f"declared {declared_mime}, but the content is {sniffed}")
    if declared_kind == "video":
        if not found.video_codec or not found.width:
            return Verdict(
                "video",
                declared_mime,
                failure=f"declared {declared_mime}, but the content has no "
                f"video stream ({sniffed or 'unknown format'})",
            )
    elif declared_kind == "audio":
        if not found.audio_codec:
            return Verdict(
                "audio",
                declared_mime,
                failure=f"declared {declared_mime}, but the content has no "
                f"audio stream ({sniffed or 'unknown format'})",
            )
    elif declared_kind == "image":
        if sniffed is None or not sniffed.startswith("image/"):
            return Verdict(
                "image",
                declared_mime,
                failure=f"declared {declared_mime}, but the content is {sniffed or 'not an image'}",
            )
    elif sniffed is not None and kind_of_mime(sniffed) != "other" and declared_mime.startswith("text/"):
        return Verdict("other", declared_mime, failure=f"declared {declared_mime}, but the content is {sniffed}")
    return Verdict(declared_kind, declared_mime)
