"""The FastAPI application: the catalogue loaded once, the ``/v1`` API, the page, health and Prometheus metrics."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from agenticrec.serve import api, page, problems
from agenticrec.serve.catalogue import Catalogue
from agenticrec.serve.events import EventStore
from agenticrec.serve.settings import ServeSettings


def create_app(catalogue: Catalogue, settings: ServeSettings) -> FastAPI:
    events = EventStore(settings.events_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        events.close()

    app = FastAPI(
        title="agenticrec",
        summary=f"Recommendations, descriptors and explanations for {catalogue.dataset.name}",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served below from the swagger-ui-bundle package: FastAPI's own page loads it from a CDN
        redoc_url=None,
    )
    app.state.catalogue, app.state.settings, app.state.events = catalogue, settings, events
    problems.install(app)
    app.include_router(api.router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.mount("/docs-static", StaticFiles(directory=swagger_ui_path), name="docs-static")
    _observe(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI over the OpenAPI document, every file served from here (works offline)."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="agenticrec API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png",
        )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, object]:
        return {"status": "ok", "dataset": catalogue.dataset.name, "models": list(catalogue.models)}

    return app


def _observe(app: FastAPI) -> None:
    """Request counts and latencies per route template, served at ``/metrics``."""
    registry = CollectorRegistry()
    requests = Counter("agenticrec_requests", "HTTP requests", ["route", "method", "status"], registry=registry)
    latency = Histogram(
        "agenticrec_request_seconds",
        "HTTP request latency",
        ["route"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5),
        registry=registry,
    )
    app.add_middleware(Measure, requests=requests, latency=latency)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class Measure:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs about a millisecond a request)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", "(unmatched)")
            self.latency.labels(route).observe(time.perf_counter() - started)
            self.requests.labels(route, scope["method"], str(status[0])).inc()
