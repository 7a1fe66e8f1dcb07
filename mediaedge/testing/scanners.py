"""The ``scan_asset`` contract (:mod:`mediaedge.hookspecs`) as a test suite.

What every scanner must do: let a clean file of any kind through (``None``), flag a file holding
what it looks for with a reason (a non-empty string), find it anywhere in a file larger than any
first-bytes read, and leave the file as it was. The plugin runs alone in a plugin manager, started
like an origin's (its ``[plugins.NAME]`` tables validated, ``startup(settings, "origin")`` called).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mediaedge import PROJECT_NAME, hookspecs
from mediaedge.plugins import start_plugins
from mediaedge.settings import Settings, load_settings
from mediaedge.testing.streams import _at

#: Bytes before (and after) the flagged content in the large-file check: more than any head read.
PADDING = 16 * 1024 * 1024
CLEAN = b"Lecture notes, week 3: sampling, aliasing and the Nyquist rate.\n"
DECLARATIONS = (("video/mp4", "video"), ("audio/mp4", "audio"), ("image/png", "image"), ("text/plain", "other"))


class ScannerContract:
    """Subclass with ``plugin`` (the module or object with the hooks) and ``flagged`` (bytes the
    scanner must quarantine); override the ``plugin_tables`` fixture for its ``[plugins.NAME]`` tables."""

    plugin: Any = None
    flagged: bytes = b""
    clean: bytes = CLEAN

    @pytest.fixture
    def plugin_tables(self, tmp_path: Path) -> Mapping[str, Any]:
        return {}

    @pytest.fixture
    def scanner(self, tmp_path: Path, plugin_tables: Mapping[str, Any]) -> tuple[pluggy.PluginManager, Settings]:
        assert self.plugin is not None and self.flagged, "set `plugin` and `flagged` on the suite"
        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        pm.register(self.plugin)
        settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "plugins": plugin_tables})
        return pm, start_plugins(settings, pm, "origin")

    def _scan(self, scanner: tuple[pluggy.PluginManager, Settings], path: Path, mime: str, kind: str) -> list[Any]:
        pm, settings = scanner
        return [r for r in pm.hook.scan_asset(path=str(path), mime=mime, kind=kind, settings=settings) if r]

    def test_a_clean_file_of_any_kind_is_let_through(self, scanner: Any, tmp_path: Path) -> None:
        path = tmp_path / "clean.bin"
        path.write_bytes(self.clean)
        for mime, kind in DECLARATIONS:
            assert self._scan(scanner, path, mime, kind) == [], f"declared {mime}"

    def test_an_empty_file_is_let_through(self, scanner: Any, tmp_path: Path) -> None:
        path = tmp_path / "empty.bin"
        path.write_bytes(b"")
        assert self._scan(scanner, path, "text/plain", "other") == []

    def test_a_flagged_file_is_quarantined_with_a_reason(self, scanner: Any, tmp_path: Path) -> None:
        path = tmp_path / "flagged.bin"
        path.write_bytes(self.clean + self.flagged + b"\n")
        reasons = self._scan(scanner, path, "text/plain", "other")
        assert reasons and all(isinstance(r, str) and r.strip() for r in reasons), reasons

    def test_flagged_bytes_deep_in_a_large_file_are_found(self, scanner: Any, tmp_path: Path) -> None:
        path = tmp_path / "large.bin"
        with open(path, "wb") as f:
            f.write(b"\0" * PADDING)
            f.write(self.flagged)
            f.write(b"\0" * PADDING)
        assert self._scan(scanner, path, "video/mp4", "video"), "the whole file is scanned, not its first bytes"

    def test_the_file_is_left_as_it_was(self, scanner: Any, tmp_path: Path) -> None:
        path = tmp_path / "flagged.bin"
        content = self.clean + self.flagged
        path.write_bytes(content)
        os.utime(path, (1_700_000_000, 1_700_000_000))
        self._scan(scanner, path, "text/plain", "other")
        assert path.read_bytes() == content and path.stat().st_mtime == 1_700_000_000


def scanner_contract(plugin: Any, flagged: bytes, plugins: Mapping[str, Any] | None = None) -> type[ScannerContract]:
    """The contract suite for a ``scan_asset`` plugin that must quarantine ``flagged``; ``plugins`` are
    its ``[plugins.NAME]`` tables (``{tmp_path}`` in a string is the test's temporary directory).
    Assign the result to a ``Test*`` name in a test module."""

    def tables(self: Any, tmp_path: Path) -> Mapping[str, Any]:
        return {name: {k: _at(v, tmp_path) for k, v in table.items()} for name, table in (plugins or {}).items()}

    name = getattr(plugin, "__name__", None) or type(plugin).__name__  # a module's, else an object's class
    camel = "".join(part[:1].upper() + part[1:] for part in name.replace(".", "_").split("_"))
    members = {"plugin": plugin, "flagged": flagged, "plugin_tables": pytest.fixture(tables), "__test__": True}
    return type(f"Test{camel}Contract", (ScannerContract,), members)
