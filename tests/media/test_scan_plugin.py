"""A ``scan_asset`` plugin (the docs/plugins.md example) quarantines uploads the built-in sniffing lets through."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediaedge import hookimpl
from mediaedge.plugins import get_plugin_manager
from mediaedge.testing import scanner_contract
from tests.fixtures.origin import make_settings
from tests.media.conftest import FAST, open_media

pytestmark = pytest.mark.anyio

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class EicarScanner:
    @hookimpl
    def scan_asset(self, path, mime, kind, settings):
        tail = b""
        with open(path, "rb") as f:  # the whole file, a chunk at a time (overlapping by the signature)
            while chunk := f.read(1 << 20):
                if EICAR in tail + chunk:
                    return "EICAR test signature"
                tail = chunk[-len(EICAR) :]
        return None


TestEicarScannerContract = scanner_contract(EicarScanner(), flagged=EICAR)


async def test_a_scanner_plugin_quarantines_what_it_flags(tmp_path: Path) -> None:
    pm = get_plugin_manager(extra=[EicarScanner()])
    async for media in open_media(make_settings(tmp_path / "var", **FAST), pm):
        flagged = b"notes for the exam\n" + EICAR + b"\n"
        ticket = (await media.declare(flagged, "text/plain", "notes.txt")).json()["data"]
        await media.post_form(ticket, flagged, "text/plain")
        finalized = await media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers)
        assert finalized.status_code == 451 and finalized.json()["code"] == "media.quarantined"
        assert "EICAR test signature" in finalized.json()["message"]
        clean = await media.upload(b"just notes\n", "text/plain", "clean.txt")
        assert clean["status"] == "ready"
