"""ASGI entry for servers: `uvicorn --factory command_center.asgi:app_from_environment`."""

from __future__ import annotations

from fastapi import FastAPI

from command_center.main import create_app
from command_center.settings import load_settings


def app_from_environment() -> FastAPI:
    return create_app(load_settings())
