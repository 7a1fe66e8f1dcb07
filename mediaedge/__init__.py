"""mediaedge: self-hosted media delivery.

Plugin authors import only this package::

    from mediaedge import hookimpl
"""

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "mediaedge"

#: Marker for plugin hook implementations: ``@hookimpl def register_storage_backends(): ...``
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
