"""Serve trained runs over HTTP: a FastAPI JSON API under ``/v1``, a web page at ``/``, an event store."""

from agenticrec.serve.app import create_app
from agenticrec.serve.catalogue import Catalogue
from agenticrec.serve.settings import ServeSettings, load_keys

__all__ = ["Catalogue", "ServeSettings", "create_app", "load_keys"]
