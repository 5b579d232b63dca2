"""The one settings module: every tunable is read here, from XXGK_* environment variables.

Nothing else in the project reads os.environ. Nested groups carry their own prefix, e.g.
XXGK_EXTRACT_MAX_BYTES.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExtractSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_EXTRACT_", extra="ignore")

    max_bytes: int = Field(64 * 2**20, ge=1024, description="Largest input file accepted, in bytes.")
    timeout_s: float = Field(120.0, gt=0, description="Wall-clock limit for parsing one file, in seconds.")
    max_memory_mb: int = Field(1536, ge=128, description="Address-space limit for the process parsing one file.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_", extra="ignore")

    extract: ExtractSettings = Field(default_factory=ExtractSettings)


def get_settings() -> Settings:
    return Settings()
