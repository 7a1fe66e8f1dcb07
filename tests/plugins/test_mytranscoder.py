"""The contract test of the provider docs/plugins.md shows, as its author writes it: one line."""

from mediaedge.testing import stream_provider_contract
from tests.plugins.mytranscoder import MyTranscoder

TestMyTranscoder = stream_provider_contract(MyTranscoder, plugins={"mytranscoder": {"cdn": "https://cdn.example.com"}})


def test_docs_plugins_md_shows_this_very_provider_and_imports_only_mediaedge():
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    doc = (root / "docs" / "plugins.md").read_text()
    assert (root / "tests" / "plugins" / "mytranscoder.py").read_text() in doc
    code = "\n".join(re.findall(r"```python\n(.*?)```", doc, re.S))
    imported = {m.split(".")[0] for m in re.findall(r"^\s*(?:from|import) ([\w.]+)", code, re.M)}
    assert imported <= {
        "__future__",
        "typing",
        "shutil",
        "pytest",
        "mediaedge",
        "mytranscoder",
        "mediaedge_storage_dict",
    }, imported
