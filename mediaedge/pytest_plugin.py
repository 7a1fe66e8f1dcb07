"""The pytest plugin mediaedge installs (entry point ``pytest11``): the contract suites of
:mod:`mediaedge.testing` get pytest's assertion rewriting, so a failing contract shows the values.

It lives outside ``mediaedge.testing`` because importing a module of that package would import the
suites before they could be marked for rewriting.
"""

import pytest

pytest.register_assert_rewrite("mediaedge.testing")
