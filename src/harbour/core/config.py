"""Settings, read from the environment (HARBOUR_*) with pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HARBOUR_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{REPO_ROOT / 'var' / 'harbour.db'}",
        description="SQLAlchemy URL; SQLite file under ./var/ by default, postgresql+psycopg://... in production",
    )
    key_file: Path = Field(
        default=REPO_ROOT / "var" / "keys" / "harbour-keys.json",
        description="JSON key ring kept outside the database (field encryption, blind index, audit chain)",
    )
    key_heartbeat_seconds: float = Field(default=5.0, gt=0, le=60,
                                         description="how often each process re-reads the key file and reports "
                                                     "its keys (key rotation waits on these reports)")
    base_url: str = "http://127.0.0.1:8000"
    session_idle_minutes: int = 15
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000  # HSDS package uploads (POST /api/v1/directory/hsds)
    quick_exit_url: str = "https://weather.gc.ca/"
    hotline_phone: str = "1-833-900-1010"
    default_purpose: str = "case_management"
    referral_response_hours: int = Field(default=24, ge=1, le=336,
                                         description="hours a provider has to answer a referral")
    stats_dir: Path = Field(default=REPO_ROOT / "var" / "stats",
                            description="the de-identified analytic store (Parquet files) and release working files")
    stats_privacy_budget: float = Field(default=4.0, gt=0, le=100,
                                        description="total differential-privacy epsilon per data year")
    stats_default_epsilon: float = Field(default=1.0, gt=0, le=100, description="epsilon of a DP release by default")
    time_zone: str = Field(default="America/Toronto",
                           description="the console's time zone for users who have not chosen their own (IANA name)")
    # live web chat (hotline.chat)
    chat_hours: str = Field(default="", pattern=r"^(\d{2}:\d{2}-\d{2}:\d{2})?$",
                            description="daily chat hours HH:MM-HH:MM in chat_timezone; empty: whenever an advocate "
                                        "is available")
    chat_timezone: str = "America/Toronto"
    chat_idle_seconds: int = Field(default=300, ge=1, description="an active chat closes after this long "
                                                                 "without a word from the visitor")
    chat_max_chars: int = Field(default=1000, ge=1, le=1500, description="longest chat message")
    chat_rate_messages: int = Field(default=20, ge=1, description="messages per connection per chat_rate_seconds")
    chat_rate_seconds: int = Field(default=10, ge=1)
    chat_block_hours: int = Field(default=24, ge=1, description="how long an advocate's block lasts")
    chat_retention_hours: int = Field(default=24, ge=1, description="closed chats not turned into a case are "
                                                                   "deleted after this long")
    # behind a reverse proxy (core.proxy) and per-client limits shared by every worker (core.ratelimit)
    trusted_proxies: str = Field(default="", description="comma-separated IP addresses or CIDR networks of the "
                                                         "reverse proxies whose X-Forwarded-For/-Proto are believed; "
                                                         "empty: no forwarded header is believed")
    tip_limit: int = Field(default=10, ge=1, description="anonymous tips per client per tip_window_seconds")
    tip_window_seconds: int = Field(default=600, ge=1, le=86400)
    chat_start_limit: int = Field(default=3, ge=1, description="anonymous chats a client may start per "
                                                               "chat_start_window_seconds")
    chat_start_window_seconds: int = Field(default=600, ge=1, le=86400)

    @property
    def is_https(self) -> bool:
        """The deployment is served over https (HARBOUR_BASE_URL): Secure cookies and HSTS."""
        return self.base_url.startswith("https://")
    # observability (ops.observe, ops.metrics)
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL; the access log "
                                                       "(harbour.access) always writes its one line per request")
    metrics_token: SecretStr | None = Field(default=None, min_length=16,
                                            description="bearer token that lets a non-loopback scraper read "
                                                        "/metrics; unset: loopback only")

    @property
    def secure_cookies(self) -> bool:
        return self.is_https

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item for item in self.trusted_proxies.split(",") if item]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """Each entry an IP address or a network without host bits (``10.0.0.0/8``); normalised, no spaces."""
        import ipaddress

        items = []
        for raw in value.split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                items.append(str(ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)))
            except ValueError as exc:
                why = f" ({exc})" if "host bits" in str(exc) else ""
                raise ValueError(f"{item!r} is not an IP address or network{why}: give comma-separated addresses "
                                 f"or CIDR networks such as 127.0.0.1, 10.0.0.0/8") from None
        return ",".join(items)

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _unset_if_empty(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"unknown log level {value!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("time_zone", "chat_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from harbour.core.timezones import valid

        if not valid(value):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as America/Toronto")
        return value


def explain(exc: ValidationError) -> str:
    """A settings error as the operator wrote it: ``HARBOUR_X: what is wrong``, one line per setting."""
    lines = []
    for err in exc.errors():
        name = "HARBOUR_" + "_".join(str(part) for part in err.get("loc", ())).upper()
        lines.append(f"error: {name}: {err.get('msg', 'invalid value').removeprefix('Value error, ')}")
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    return Settings()
