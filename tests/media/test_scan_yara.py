"""The built-in YARA scanner (plugin ``scan_yara``, ``[plugins.yara]``): real rules compiled from a
directory at start; a match quarantines the upload, a clean file passes, a bad rule file stops the start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mediaedge_scan_yara
import pytest

from mediaedge.plugins import configure_plugins, get_plugin_manager, plugin_infos
from mediaedge.settings import SettingsError
from mediaedge.testing import ScannerContract
from origin.state import OriginState
from tests.fixtures.origin import make_settings
from tests.media.conftest import FAST, open_media

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

EICAR_RULE = r"""
rule EicarTestFile
{
    meta:
        description = "the EICAR anti-virus test file"
    strings:
        $eicar = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
    condition:
        $eicar
}
"""

# A second file in a subdirectory, using the declaration's externals.
DECLARED_VIDEO_WITH_SCRIPT = r"""
rule ScriptInDeclaredVideo
{
    strings:
        $ps = "powershell -EncodedCommand" nocase
    condition:
        $ps and kind == "video"
}
"""


def write_rules(directory: Path) -> Path:
    (directory / "media").mkdir(parents=True)
    (directory / "eicar.yar").write_text(EICAR_RULE)
    (directory / "media" / "script.yara").write_text(DECLARED_VIDEO_WITH_SCRIPT)
    (directory / "README.txt").write_text("not a rule file: ignored")
    return directory


def yara_settings(tmp_path: Path, rules_dir: Path, **table: Any) -> Any:
    plugins = {**FAST["plugins"], "yara": {"rules_dir": str(rules_dir), **table}}
    return make_settings(tmp_path / "var", **{**FAST, "plugins": plugins})


class TestYaraScannerContract(ScannerContract):
    plugin = mediaedge_scan_yara
    flagged = EICAR

    @pytest.fixture
    def plugin_tables(self, tmp_path: Path) -> dict[str, Any]:
        return {"yara": {"rules_dir": str(write_rules(tmp_path / "rules"))}}


def test_the_scanner_is_a_plugin_loaded_from_the_entry_point_group() -> None:
    infos = {i.name: i for i in plugin_infos(get_plugin_manager())}
    assert infos["scan_yara"].module == "mediaedge_scan_yara"
    assert infos["scan_yara"].hooks == ("plugin_settings", "scan_asset", "startup")


@pytest.mark.anyio
async def test_a_matching_upload_is_quarantined_and_never_served_and_a_clean_one_passes(tmp_path: Path) -> None:
    settings = yara_settings(tmp_path, write_rules(tmp_path / "rules"))
    async for media in open_media(settings):
        flagged = b"exam answers\n" + EICAR + b"\n"
        ticket = (await media.declare(flagged, "text/plain", "answers.txt")).json()["data"]
        await media.post_form(ticket, flagged, "text/plain")
        finalized = await media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers)
        assert finalized.status_code == 451 and finalized.json()["code"] == "media.quarantined"
        assert "YARA rule matched: eicar.yar:EicarTestFile" in finalized.json()["message"]
        shown = await media.client.get(f"/api/v1/media/{ticket['assetId']}", headers=media.headers)
        assert shown.status_code == 451 and shown.json()["code"] == "media.quarantined"
        edge = await media.client.get(
            f"/_edge/objects/{ticket['uploadFields']['key']}",
            headers={"X-Mediaedge-Edge-Secret": media.state.edge_secret},
        )
        assert edge.status_code == 404

        clean = await media.upload(b"exam questions\n", "text/plain", "questions.txt")
        assert clean["status"] == "ready"
        # The declaration-dependent rule: the same words in a text file are not flagged.
        script = await media.upload(b"run: powershell -EncodedCommand SQBFAFgA\n", "text/plain", "howto.txt")
        assert script["status"] == "ready"


def test_rules_see_the_declared_kind_and_mime(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path / "rules")
    options = mediaedge_scan_yara.YaraSettings(rules_dir=str(rules_dir))
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"POWERSHELL -encodedcommand SQBFAFgA")
    reason = mediaedge_scan_yara.SCANNER.scan(str(path), "video/mp4", "video", options)
    assert reason == "YARA rule matched: media/script.yara:ScriptInDeclaredVideo"
    assert mediaedge_scan_yara.SCANNER.scan(str(path), "text/plain", "other", options) is None


def test_every_matching_rule_is_named(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path / "rules")
    options = mediaedge_scan_yara.YaraSettings(rules_dir=str(rules_dir))
    path = tmp_path / "both.bin"
    path.write_bytes(EICAR + b" powershell -EncodedCommand x")
    reason = mediaedge_scan_yara.SCANNER.scan(str(path), "video/mp4", "video", options)
    assert reason == "YARA rules matched: eicar.yar:EicarTestFile, media/script.yara:ScriptInDeclaredVideo"


@pytest.mark.anyio
async def test_a_rule_file_that_does_not_compile_stops_the_origin_naming_the_file(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path / "rules")
    bad = rules_dir / "media" / "broken.yar"
    bad.write_text('rule Fine { condition: true }\nrule Broken { strings: $a = "x" condition: $b }\n')
    message = rf'a rule file does not compile: {re.escape(str(bad))}\(2\): undefined string "\$b"'
    with pytest.raises(ValueError, match=rf"^plugins.yara.rules_dir: {message}"):
        await OriginState.open(yara_settings(tmp_path, rules_dir))


@pytest.mark.anyio
async def test_a_rules_dir_without_rule_files_stops_the_origin(tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"plugins.yara.rules_dir: no .yar or .yara files in"):
        await OriginState.open(yara_settings(tmp_path, empty))
    with pytest.raises(ValueError, match=r"plugins.yara.rules_dir: .*missing is not a directory"):
        await OriginState.open(yara_settings(tmp_path, tmp_path / "missing"))


def test_the_timeout_is_a_positive_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"plugins.yara.timeout: must be positive"):
        configure_plugins(yara_settings(tmp_path, tmp_path, timeout=0), get_plugin_manager())
