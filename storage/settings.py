"""Lake settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LakeFormat = Literal["parquet", "hdf5", "csv"]


class LakeSettings(BaseModel):
    """``[lake]`` in smartcity.toml; ``SMARTCITY_LAKE`` sets the path."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    path: Path = Field(default=Path("lake"), description="root folder of the lake")
    format: LakeFormat = Field(default="parquet", description="file format of landed raw data")
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = Field(
        default="zstd", description="Parquet compression codec")

    @property
    def root(self) -> Path:
        return self.path.expanduser().resolve()
