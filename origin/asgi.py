"""ASGI entry for servers: ``uvicorn origin.asgi:app --factory``. Settings are the ones
:func:`origin.server.run_origin` handed over, else those the environment names."""

from starlette.applications import Starlette

from mediaedge.settings import worker_settings
from origin.app import create_app


def app() -> Starlette:
    return create_app(worker_settings())
