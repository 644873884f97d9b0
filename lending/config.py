"""Settings read once from the environment, then overridden by the caller (tests)."""

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe for the environment."""


@dataclass(frozen=True)
class Settings:
    """Typed settings; every value has an environment variable of the same upper-case name."""

    env: str = "production"
    database_url: str = ""
    secret_key: str = ""
    payment_webhook_secret: str = ""
    smtp_url: str = ""
    sms_gateway_url: str = ""
    device_webhook_url: str = ""
    device_webhook_secret: str = ""
    credit_bureau_url: str = ""
    timezone: str = "Asia/Karachi"
    # argon2 cost: the library's defaults in production, cheap in tests so suites stay fast.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    api_token_days: int = 365
    # Log-in abuse: attempts per client address (Flask-Limiter syntax and storage URI), and
    # how many failures in a row lock an account for how long.
    login_rate_limit: str = "10/minute"
    ratelimit_storage_uri: str = "memory://"
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    log_level: str = "INFO"
    # Credit decisions: score cut-offs, an optional trained scorecard file, the bureau's patience.
    score_approve: int = 620
    score_refer: int = 560
    scorecard_path: str = ""
    bureau_timeout_seconds: float = 2.0
    # Products, the device registry and programmes are kept in memory this long per process
    # (a write in the same process forgets them at once); 0 reads them on every request.
    reference_cache_seconds: float = 10.0
    # Messages: the sender of e-mails, and the hours (business time zone) people are left alone.
    mail_from: str = "Qist <noreply@qist.invalid>"
    quiet_hours: str = "20:00-09:00"
    # How loans are classified and provisioned: a profile of lending/data/regulator_profiles.toml
    # (sbp-mfb-2006, sbp-mfb-2014, sbp-consumer-banks, secp-nbfc).
    regulator_profile: str = "sbp-mfb-2006"
    # "cash": profit is income when paid; "accrual": each instalment's profit when it falls due
    # (suspended on non-performing loans). Fees and late charges are income when paid on both.
    accounting_basis: str = "cash"

    @property
    def testing(self) -> bool:
        return self.env == "testing"


_CASTS = {int: int, float: float}


def _from_environment(environ) -> dict:
    values = {}
    for f in fields(Settings):
        key = "LENDING_ENV" if f.name == "env" else f.name.upper()
        if key in environ:
            raw = environ[key]
            values[f.name] = _CASTS.get(f.type, str)(raw)
    return values


def load_settings(instance_path: str, overrides: dict | None = None, environ=None) -> Settings:
    """Build settings: defaults, then the environment, then the caller's overrides."""
    environ = os.environ if environ is None else environ
    settings = replace(Settings(), **{**_from_environment(environ), **(overrides or {})})
    if settings.env not in ENVIRONMENTS:
        raise ConfigError(f"LENDING_ENV must be one of {', '.join(ENVIRONMENTS)}")
    if not settings.database_url:
        db_file = Path(instance_path) / "lending.db"
        settings = replace(settings, database_url=f"sqlite:///{db_file}")
    if not settings.secret_key:
        if settings.env == "production":
            raise ConfigError("SECRET_KEY is required outside development and tests")
        settings = replace(settings, secret_key=os.urandom(32).hex())
    if settings.env == "testing":
        settings = replace(settings, argon2_time_cost=1, argon2_memory_cost=8)
    from lending.regulation import UnknownProfile, profile

    try:
        profile(settings.regulator_profile)
    except UnknownProfile as exc:
        raise ConfigError(f"REGULATOR_PROFILE: {exc}") from None
    if settings.accounting_basis not in ("cash", "accrual"):
        raise ConfigError("ACCOUNTING_BASIS must be cash or accrual")
    return settings
