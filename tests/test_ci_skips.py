"""In CI (``CI=true``) a skipped test fails the run: a missing PostgreSQL or Chromium cannot hide
behind a green exit status. Outside CI a skip stays a skip."""

from __future__ import annotations

import pytest

SKIPPING = """
import pytest

def test_needs_postgresql():
    pytest.skip("PostgreSQL is unreachable")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False
"""


@pytest.mark.parametrize(
    ("ci", "outcomes"),
    [
        ("true", {"failed": 1, "xfailed": 1}),
        ("", {"skipped": 1, "xfailed": 1}),
    ],
)
def test_a_skip_fails_only_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcomes: dict[str, int]
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest("-p", "tests.fixtures.ci", "-p", "no:cacheprovider", "-n", "0")
    result.assert_outcomes(**outcomes)
    if ci:
        result.stdout.fnmatch_lines(["*skipped in CI (CI=true), which counts as a failure*PostgreSQL is unreachable*"])
