"""Settings: defaults, environment, overrides; no default secret outside development/tests."""

import pytest

from lending.config import ConfigError, load_settings


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(str(tmp_path), environ={"LENDING_ENV": "production"})


def test_default_database_is_sqlite_under_instance(tmp_path):
    settings = load_settings(str(tmp_path), environ={"LENDING_ENV": "development"})
    assert settings.database_url == f"sqlite:///{tmp_path}/lending.db"
    assert len(settings.secret_key) == 64


def test_environment_then_overrides(tmp_path):
    environ = {
        "LENDING_ENV": "production",
        "SECRET_KEY": "s3cret",
        "DATABASE_URL": "sqlite://",
        "TIMEZONE": "Asia/Karachi",
        "API_TOKEN_DAYS": "30",
    }
    settings = load_settings(str(tmp_path), {"timezone": "UTC"}, environ=environ)
    assert (settings.secret_key, settings.database_url, settings.timezone) == (
        "s3cret",
        "sqlite://",
        "UTC",
    )
    assert settings.api_token_days == 30


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(str(tmp_path), environ={"LENDING_ENV": "staging", "SECRET_KEY": "x"})
