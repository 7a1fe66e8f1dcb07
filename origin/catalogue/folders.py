"""Catalogue folders: an asset's ``folder`` is a path (``root/a/b``), and each folder on it is a row of
the ``folders`` table (an id, a name, a parent) that the editor lists, renames and moves.

Whatever API puts an asset in a path makes the path's folders with :func:`ensure_folders`: on
demand, parents first, one folder per name even when uploads into the same new path race.
"""

from __future__ import annotations

from origin.state import OriginState
from origin.store import Tenant
from origin.store.editor import Folder

#: The top of every tenant's tree (an asset there has the folder ``root``, or ``""``).
ROOT = "root"


def path_names(path: str) -> list[str]:
    """The folder names of a path under the top: ``root/a/b`` → ``["a", "b"]``."""
    names = [name for name in path.split("/") if name]
    return names[1:] if names[:1] == [ROOT] else names


async def ensure_folders(state: OriginState, tenant: Tenant, path: str) -> Folder | None:
    """The folder of ``path``, made with its parents where missing; ``None`` for the top."""
    return await state.store.editor.ensure_path(tenant.id, path_names(path))
