"""YARA rules against uploaded media (``scan_asset`` hook; yara-python).

Every ``*.yar`` / ``*.yara`` file under ``plugins.yara.rules_dir`` (subdirectories included) is
compiled when an origin starts; a file that does not compile stops the start with YARA's message,
which names the file and line. Each finalized upload is matched against the compiled rules with
YARA's own file scanning (the file is memory-mapped, never read into Python), and any match
quarantines the asset, naming the rules that matched. A scan that fails or runs out of time
quarantines too: an unscanned file is not served.

Rules may test the upload's declaration through two external variables, ``mime`` and ``kind``
(``video``, ``audio``, ``image``, ``other``), e.g. ``condition: $script and kind == "video"``.

Settings, ``[plugins.yara]``: ``rules_dir`` (empty: the scanner is off), ``timeout`` in seconds per
file (60).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yara

from mediaedge import hookimpl
from mediaedge.hookspecs import Tier
from mediaedge.settings import PositiveInt, Settings, StrictStr, settings_table

RULE_SUFFIXES = (".yar", ".yara")
#: Externals every rule may use; their values at match time are the upload's declaration.
EXTERNALS = {"mime": "", "kind": ""}
#: Rules named in a quarantine reason (the rest are counted).
SHOWN_MATCHES = 5


@settings_table
class YaraSettings:
    """``[plugins.yara]``."""

    rules_dir: StrictStr = ""
    timeout: PositiveInt = 60


def rule_files(directory: Path) -> dict[str, str]:
    """The rule files under ``directory`` by namespace (their path relative to it); ValueError naming
    the setting when there is no such directory or no rule file in it."""
    if not directory.is_dir():
        raise ValueError(f"plugins.yara.rules_dir: {directory} is not a directory")
    found = {
        path.relative_to(directory).as_posix(): str(path)
        for path in sorted(directory.rglob("*"))
        if path.suffix.lower() in RULE_SUFFIXES and path.is_file()
    }
    if not found:
        raise ValueError(f"plugins.yara.rules_dir: no {' or '.join(RULE_SUFFIXES)} files in {directory}")
    return found


def compile_rules(directory: Path) -> yara.Rules:
    """All rule files of ``directory`` in one ``yara.Rules``; a ValueError with YARA's message (the
    file and line) for a file that does not compile."""
    try:
        return yara.compile(filepaths=rule_files(directory), externals=EXTERNALS)
    except yara.Error as exc:
        raise ValueError(f"plugins.yara.rules_dir: a rule file does not compile: {exc}") from None


class YaraScanner:
    """The compiled rules of each configured directory, built at start (or on first use) and shared by
    the process's scans (``yara.Rules`` matches from several threads at once)."""

    def __init__(self) -> None:
        self._rules: dict[Path, yara.Rules] = {}
        self._lock = threading.Lock()

    def load(self, directory: Path) -> yara.Rules:
        """Compile ``directory`` afresh (a start reads the rules as they are now)."""
        rules = compile_rules(directory)
        with self._lock:
            self._rules[directory] = rules
        return rules

    def rules(self, directory: Path) -> yara.Rules:
        with self._lock:
            rules = self._rules.get(directory)
        return rules if rules is not None else self.load(directory)

    def scan(self, path: str, mime: str, kind: str, options: YaraSettings) -> str | None:
        """Why the file at ``path`` must be quarantined, or None when no rule matches."""
        rules = self.rules(Path(options.rules_dir).resolve())
        try:
            matches = rules.match(filepath=path, externals={"mime": mime, "kind": kind}, timeout=options.timeout)
        except yara.TimeoutError:
            return f"the YARA scan did not finish within {options.timeout} s"
        except yara.Error as exc:
            return f"the YARA scan failed: {exc}"
        if not matches:
            return None
        names = [f"{m.namespace}:{m.rule}" for m in matches]
        shown = ", ".join(names[:SHOWN_MATCHES])
        more = f" and {len(names) - SHOWN_MATCHES} more" if len(names) > SHOWN_MATCHES else ""
        return f"YARA rule{'s' if len(names) > 1 else ''} matched: {shown}{more}"


SCANNER = YaraScanner()


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"yara": YaraSettings}


@hookimpl
def startup(settings: Settings, tier: Tier) -> None:
    options = settings.plugin("yara", YaraSettings)
    if options.rules_dir and tier == "origin":  # uploads are finalized, and scanned, by the origin
        SCANNER.load(Path(options.rules_dir).resolve())


@hookimpl
def scan_asset(path: str, mime: str, kind: str, settings: Settings) -> str | None:
    options = settings.plugin("yara", YaraSettings)
    return SCANNER.scan(path, mime, kind, options) if options.rules_dir else None
