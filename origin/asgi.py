"""ASGI entry for servers: ``uvicorn origin.asgi:app --factory``. Settings come from the environment."""

from starlette.applications import Starlette

from mediaedge.settings import load_settings
from origin.app import create_app


def app() -> Starlette:
    return create_app(load_settings())
