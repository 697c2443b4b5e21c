"""The settings object refuses what would be unsafe or could not work."""

import pytest
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from command_center.settings import ConfigurationError, Settings

URL = "postgresql+psycopg://u:p@127.0.0.1/db_test"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "REDIS_URL", "ENVIRONMENT", "TIMEZONE", "EVENT_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY is required"):
        make(database_url=URL, environment="production")


@pytest.mark.parametrize("weak", ["change-me", "short-key"])
def test_weak_secret_keys_are_refused(weak: str) -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        make(database_url=URL, secret_key=weak)


def test_a_missing_key_is_named_when_tokens_are_needed() -> None:
    settings = make(database_url=URL)
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        settings.signing_key()


def test_the_database_url_must_use_psycopg() -> None:
    with pytest.raises(ValidationError, match=r"postgresql\+psycopg://"):
        make(database_url="postgresql://u:p@h/db")


def test_no_redis_url_means_the_in_process_bus() -> None:
    assert make(database_url=URL, redis_url="").redis_url is None


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        make(database_url=URL, timezone="Mars/Olympus")


def test_libpq_conninfo_drops_the_driver_name() -> None:
    assert conninfo_to_dict(make(database_url=URL).psycopg_conninfo) == {
        "dbname": "db_test",
        "user": "u",
        "password": "p",
        "host": "127.0.0.1",
    }


def test_several_hosts_become_libpq_lists_and_the_listen_url_wins() -> None:
    several = "postgresql+psycopg://u:p@/db_test?host=10.0.0.1:5432&host=10.0.0.2:5433"
    settings = make(
        database_url="postgresql+psycopg://u:p@127.0.0.1:6432/db_test",
        database_listen_url=several + "&target_session_attrs=read-write",
    )
    conninfo = conninfo_to_dict(settings.psycopg_conninfo)
    assert conninfo["host"] == "10.0.0.1,10.0.0.2" and conninfo["port"] == "5432,5433"
    assert conninfo["target_session_attrs"] == "read-write"
    with pytest.raises(ValidationError, match="DATABASE_LISTEN_URL must start"):
        make(database_url=URL, database_listen_url="postgresql://u:p@h/db")


def test_deployments_sharing_one_redis_get_channels_of_their_own() -> None:
    lishui = make(database_url="postgresql+psycopg://u:p@127.0.0.1/lishui")
    wenzhou = make(database_url="postgresql+psycopg://u:p@10.0.0.9:5433/wenzhou")
    assert lishui.event_channel == "command_center:events:lishui"
    assert wenzhou.event_channel != lishui.event_channel
    assert make(database_url=URL, event_channel="ops:events").event_channel == "ops:events"


def test_sentinels_are_host_ports_and_make_redis_configured() -> None:
    settings = make(database_url=URL, redis_sentinels="10.0.0.1:26379, 10.0.0.2:26380")
    assert settings.redis.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380))
    assert settings.redis.configured and settings.redis_url is None
    assert not make(database_url=URL).redis.configured
    with pytest.raises(ValidationError, match="is not host:port"):
        make(database_url=URL, redis_sentinels="10.0.0.1")


def test_an_object_store_needs_its_bucket() -> None:
    with pytest.raises(ValidationError, match="MEDIA_STORE=s3 needs MEDIA_S3_BUCKET"):
        make(database_url=URL, media_store="s3")
    assert make(database_url=URL, media_store="s3", media_s3_bucket="evidence").media_s3_bucket
