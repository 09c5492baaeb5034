"""The FastAPI application of ``smartcity live``: the page, the JSON API and the event stream.

Server-Sent Events rather than WebSockets: the stream only flows from server to browser, it is plain
HTTP (proxies, ingress controllers and probes understand it), and browsers reconnect by themselves
and send ``Last-Event-ID``, which is exactly the resume this view needs. Each update is encoded once
and the same bytes go to every browser, so the stream is a plain ``StreamingResponse`` of prepared
``text/event-stream`` frames (see :mod:`.hub`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from smartcity.core.errors import LiveError
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.live.feed import Feed
from smartcity.live.hub import Hub
from smartcity.live.network import network
from smartcity.live.settings import LiveSettings
from smartcity.live.state import LiveState, public
from smartcity.live.store import OCCUPANCY_ORDER, LiveStore
from smartcity.simulator.model import City

Occupancy = Literal[OCCUPANCY_ORDER]  # type: ignore[valid-type]
PAGE = resources.files("smartcity.live") / "page"


@dataclass
class Live:
    store: LiveStore
    hub: Hub
    feed: Feed
    network: dict[str, Any]
    settings: LiveSettings


def create_app(kafka: KafkaSettings, settings: LiveSettings, city: City, store: LiveStore | None = None) -> FastAPI:
    """The application; ``store`` is opened (and closed) by it unless given (the CLI opens it first, so
    that a store it cannot open is a one-line error before anything is served)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live_store = store if store is not None else LiveStore(settings)
        records, positions = await asyncio.to_thread(live_store.load)
        state = LiveState.from_records(records)
        hub = Hub(client_queue=settings.client_queue, history=settings.history)
        hub.load(state.snapshot())  # the stored picture, before anything new arrives
        loop = asyncio.get_running_loop()

        def publish(payload: dict[str, Any], data: bytes) -> None:  # called on the feed thread
            loop.call_soon_threadsafe(hub.publish, payload, data)

        feed = Feed(kafka, settings, live_store, state, positions, publish=publish)
        feed.start()
        app.state.live = Live(live_store, hub, feed, network(city), settings)
        try:
            yield
        finally:
            feed.stop()
            await asyncio.to_thread(feed.join, 10)
            live_store.close()

    app = FastAPI(title="smartcity live", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.mount("/static", StaticFiles(directory=str(PAGE)), name="static")

    @app.exception_handler(LiveError)
    async def store_unavailable(request: Request, exc: LiveError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    def live(request: Request) -> Live:
        return request.app.state.live  # type: ignore[no-any-return]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(PAGE / "index.html"), media_type="text/html")

    @app.get("/api/network", summary="Stops, route paths and sensor sites of the city model")
    def get_network(request: Request) -> dict[str, Any]:
        return live(request).network

    @app.get("/api/vehicles", summary="Latest state of every vehicle")
    def vehicles(request: Request, route: str | None = None,
                 occupancy: Annotated[list[Occupancy] | None, Query()] = None,
                 at_least: Occupancy | None = None) -> list[dict[str, Any]]:
        """Filter by `route`, by `occupancy` status (repeatable), or by `at_least` an occupancy status
        (GTFS-Realtime OccupancyStatus order, EMPTY to NOT_ACCEPTING_PASSENGERS)."""
        return live(request).store.vehicles(route, list(occupancy or []), at_least)

    @app.get("/api/sensors", summary="Latest reading and NowCast AQI of every sensor")
    def sensors(request: Request, category: str | None = None, min_aqi: int | None = None) -> list[dict[str, Any]]:
        """`aqi` is the larger of the PM2.5 and PM10 EPA NowCast AQI; `category` its AQI category."""
        return live(request).store.sensors(category, min_aqi)

    @app.get("/api/stations", summary="Latest event of every stop")
    def stations(request: Request) -> list[dict[str, Any]]:
        return live(request).store.select("station")

    @app.get("/api/alerts", summary="Open alerts")
    def alerts(request: Request, kind: str | None = None, severity: str | None = None) -> list[dict[str, Any]]:
        return live(request).store.alerts(kind, severity)

    @app.get("/api/fleet", summary="Fleet figures of the latest window")
    def fleet(request: Request) -> dict[str, Any]:
        rows = live(request).store.select("fleet")
        return public(rows[0]) if rows else {}

    @app.get("/api/health", summary="Is the feed reading Kafka and the store taking writes")
    def health(request: Request) -> JSONResponse:
        state = live(request)
        ok = state.feed.is_alive() and state.feed.error is None
        body = {"feed": state.feed.status, "store_error": state.feed.error, "clients": len(state.hub.clients),
                "event_id": state.hub.event_id(), **state.feed.stats, **state.hub.stats}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/events", summary="Server-Sent Events: a snapshot, then updates")
    async def events(request: Request, last_event_id: Annotated[str | None, Header()] = None,
                     since: str | None = None) -> StreamingResponse:
        """`Last-Event-ID` (sent by browsers when they reconnect) or `since` resumes after that event."""
        state = live(request)
        client = state.hub.subscribe(last_event_id or since)
        return StreamingResponse(state.hub.stream(client, state.settings.keepalive_s), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app
