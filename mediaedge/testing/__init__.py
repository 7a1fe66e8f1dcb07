"""Contract tests for plugin authors: the suite every built-in storage backend and stream provider passes.

Installed as a pytest plugin (entry point ``pytest11``: ``mediaedge = mediaedge.pytest_plugin``), so
the suites' assertions are rewritten and their fixtures are there in any project that installs
mediaedge. Run a suite on your plugin with one line in a test module::

    from mediaedge.testing import scanner_contract, storage_contract, stream_provider_contract

    TestMyBackend = storage_contract(MyBackend, {"kind": "mine", "root": "{tmp_path}/objects"})
    TestMyTranscoder = stream_provider_contract(MyTranscoder, plugins={"mytranscoder": {"speed": 2}})
    TestMyScanner = scanner_contract(my_scanner_module, flagged=b"bytes it must quarantine")

or subclass :class:`StorageBackendContract` / :class:`StreamProviderContract` and override their
``backend`` / ``provider`` and ``stream_source`` fixtures when building one needs other fixtures
(a server, a fake API); a :class:`ScannerContract` subclass overrides ``plugin_tables`` when its
settings need files made first (a rules directory).
"""

from mediaedge.testing.scanners import ScannerContract, scanner_contract
from mediaedge.testing.storage import StorageBackendContract, storage_contract
from mediaedge.testing.streams import RecordedReports, StreamProviderContract, stream_provider_contract

__all__ = [
    "RecordedReports",
    "ScannerContract",
    "StorageBackendContract",
    "StreamProviderContract",
    "scanner_contract",
    "storage_contract",
    "stream_provider_contract",
]
