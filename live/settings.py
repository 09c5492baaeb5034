"""Settings of the live view (``[live]`` in smartcity.toml, ``SMARTCITY_LIVE_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

SURREAL_SCHEMES = ("surrealkv", "mem", "memory", "ws", "wss", "http", "https")


class LiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    host: str = Field(default="127.0.0.1", min_length=1, description="address the web server binds")
    port: int = Field(default=8050, ge=1, le=65535, description="port of the web server")
    store: str = Field(default="surrealkv://live-state",
                       description="SurrealDB holding the live state: surrealkv://<folder> (embedded, the default), "
                                   "mem:// (embedded, forgotten on exit) or ws://host:8000 (a SurrealDB server)")
    store_namespace: str = Field(default="smartcity", pattern=r"^[A-Za-z0-9_]+$", description="SurrealDB namespace")
    store_database: str = Field(default="live", pattern=r"^[A-Za-z0-9_]+$", description="SurrealDB database")
    store_username: str | None = Field(default=None, description="SurrealDB user (servers only)")
    store_password: SecretStr | None = Field(default=None, description="SurrealDB password (servers only)")
    lookback_s: int = Field(default=900, ge=0, description="on a first start (nothing in the store), read each "
                            "topic from this many seconds ago")
    flush_ms: int = Field(default=250, ge=10, le=5000, description="how often the consumer stores and publishes "
                          "what changed (ms)")
    client_queue: int = Field(default=64, ge=1, description="updates a browser may fall behind before its oldest "
                              "are dropped (it is told, and sent the whole picture again)")
    history: int = Field(default=2048, ge=1, description="recent updates kept for reconnecting browsers "
                         "(Last-Event-ID)")
    send_buffer_kib: int = Field(default=128, ge=16, le=65536, description="kernel send buffer per connection (KiB): "
                                 "what a browser that stops reading can hold before its own queue starts dropping")
    keepalive_s: float = Field(default=15.0, gt=0, description="seconds between keep-alive comments on idle streams")

    @field_validator("store")
    @classmethod
    def _scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in SURREAL_SCHEMES:
            raise ValueError(f"the store must be a SurrealDB URL ({', '.join(s + '://' for s in SURREAL_SCHEMES)}), "
                             f"got {value!r}")
        return value

    def embedded_path(self) -> Path | None:
        """The folder of an embedded surrealkv store, else None."""
        return Path(self.store.split("://", 1)[1]) if self.store.startswith("surrealkv://") else None
