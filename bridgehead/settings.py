"""One place for configuration: environment variables with the BRIDGEHEAD_ prefix, or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.common import SimulatedClock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIDGEHEAD_", env_file=".env", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where local state lives (SQLite file, reports).")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under var_dir."
    )
    rules_file: Path = Field(
        default=Path(__file__).parent / "rulesets" / "default.yaml",
        description="The versioned rules file (grading, cadence, targets, points).",
    )
    data_dir: Path = Field(default=Path("var/data"), description="Where generated or received files go.")
    inbox_dir: Path = Field(
        default=Path("var/inbox"), description="Pending input files, one folder per channel."
    )
    reports_dir: Path = Field(default=Path("reports"), description="Review reports (HTML, CSV, JSON).")
    actor: str | None = Field(
        default=None, description="Who a command acts as when not inside a flow run (default: the OS user)."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Fernet key that encrypts tipster contacts and caller phones at rest."
    )
    secret_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding that key (instead of secret_key)."
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="Absolute path of a file holding that key (made once if missing). Default: secret.key "
        "beside a SQLite database; for PostgreSQL, keys/<host>-<port>-<db>.key under an absolute var_dir.",
    )
    sqlite_busy_timeout_s: float = 30.0
    postgres_random_page_cost: float | None = Field(
        default=1.1,
        description="PostgreSQL's cost of a random page read, set on each connection (blank: the server's). "
        "PostgreSQL's default, 4, models spinning disks and reads a whole table rather than look up 5,000 "
        "ids by an index; 1.1 is its documentation's figure for solid-state storage.",
    )
    postgres_jit: bool | None = Field(
        default=False,
        description="PostgreSQL's JIT compilation of statements, set on each connection (blank: the "
        "server's). Off: Bridgehead's statements take well under a second, and compiling one cost more "
        "than it saved (321 of the 699 ms of the review's largest statement at scale 1).",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The jurisdiction's time zone (IANA name): days, weeks, sweep days, schedules and every "
        "time shown. Read once by models.common; set it before the first intake.",
    )
    clock: str | None = Field(
        default=None,
        description="A simulated clock, '<time> x<speed> since <real time>': what `simulate --live` "
        "gives the flows it serves (read by models.common.utcnow; never ahead of the real clock).",
    )

    @field_validator("clock")
    @classmethod
    def _clock_reads(cls, value: str | None) -> str | None:
        if value:
            SimulatedClock.parse(value)
        return value

    @field_validator("postgres_random_page_cost", "postgres_jit", mode="before")
    @classmethod
    def _blank_is_the_servers(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'bridgehead.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
