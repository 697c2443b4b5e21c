"""RTMP without I/O: what nginx's callbacks carry, the push key, the nginx configuration."""

from __future__ import annotations

import time
from pathlib import Path, PurePosixPath

import pytest

from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from command_center.video.nginx_config import RtmpConfig, render
from command_center.video.rtmp import is_push_key, key_principal, push_key, read_push

KEY = "k" * 40
DEVICE = Principal(
    role=Role.DEVICE,
    subject="UAV-07",
    squad="LD-01",
    device="UAV-07",
    credential="token:0123456789abcdef",
    expires_at=time.time() + 3600,
)
SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "rtmp.conf"


def test_a_push_names_its_stream_and_carries_the_key_in_its_arguments() -> None:
    form = {
        "app": "live",
        "name": "UAV-07",
        "token": "secret",
        "clientid": "12",
        "addr": "10.1.2.3",
    }
    push = read_push(form, app="live")
    assert (push.name, push.token, push.client_id) == ("UAV-07", "secret", "12")
    assert push.describe() == "live/UAV-07 from 10.1.2.3"


def test_a_key_as_the_stream_name_is_never_described() -> None:
    push = read_push({"app": "live", "name": "the~secret~key"}, app="live")
    assert push.name is None and push.token == "the~secret~key"
    assert "secret" not in push.describe()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"app": "other", "name": "UAV-07", "token": "t"}, NotFound),
        ({"app": "live", "name": "../etc", "token": "t"}, InvalidInput),
        ({"app": "live", "name": ""}, Unauthenticated),
    ],
)
def test_pushes_that_cannot_be_ours_are_refused(form: dict[str, str], error: type) -> None:
    with pytest.raises(error):
        read_push(form, app="live")


def test_a_push_key_stands_for_its_device_token_and_fits_nginx() -> None:
    key = push_key(DEVICE, signing_key=KEY)
    assert is_push_key(key) and len(f"token={key}") < 255  # nginx-rtmp cuts at 255
    back = key_principal(key, signing_key=KEY, now=time.time())
    assert back == DEVICE
    assert back.credential == DEVICE.credential  # revoking the token revokes the key
    assert back.expires_at == float(int(DEVICE.expires_at or 0))


def test_a_forged_or_expired_push_key_is_refused() -> None:
    key = push_key(DEVICE, signing_key=KEY)
    device, squad, token_id, expiry, mac = key.split("~")
    for forged in (
        "~".join(["UAV-08", squad, token_id, expiry, mac]),  # another device
        "~".join([device, "QT-01", token_id, expiry, mac]),  # another squad
        "~".join([device, squad, token_id, "ffffffffff", mac]),  # living longer
        push_key(DEVICE, signing_key="x" * 40),  # another service's key
        "a~b~c",
    ):
        with pytest.raises(Unauthenticated):
            key_principal(forged, signing_key=KEY, now=time.time())
    with pytest.raises(Unauthenticated, match="expired"):
        key_principal(key, signing_key=KEY, now=time.time() + 7200)


def test_only_a_recorded_device_token_has_a_push_key() -> None:
    with pytest.raises(Forbidden):
        push_key(Principal(role=Role.OPERATOR, subject="op"), signing_key=KEY)
    legacy = Principal(role=Role.DEVICE, subject="UAV-07", device="UAV-07")
    with pytest.raises(Forbidden, match="no record"):
        push_key(legacy, signing_key=KEY)


def test_the_configuration_loads_the_module_and_keeps_secrets_out_of_its_logs() -> None:
    text = render(
        RtmpConfig(
            listen="127.0.0.1:19350",
            prefix=PurePosixPath("/srv/rtmp"),
            service_url="http://127.0.0.1:8000",
        )
    )
    assert "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;" in text
    assert "pid /srv/rtmp/nginx.pid;" in text
    assert "error_log /srv/rtmp/logs/error.log notice;" in text
    assert "listen 127.0.0.1:19350;" in text
    assert "on_publish http://127.0.0.1:8000/rtmp/on_publish;" in text
    assert "on_publish_done http://127.0.0.1:8000/rtmp/on_publish_done;" in text
    assert "access_log /srv/rtmp/logs/rtmp-access.log pushes;" in text
    assert "$args" not in text and "$name" not in text


@pytest.mark.parametrize(
    "bad",
    [
        {"listen": "99999"},
        {"listen": "host:port"},
        {"prefix": PurePosixPath("relative")},
        {"service_url": "https://command-center.example"},
        {"service_url": "http://127.0.0.1:8000/path"},
    ],
)
def test_a_configuration_nginx_could_not_run_is_refused(bad: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "listen": "1935",
        "prefix": PurePosixPath("/srv/rtmp"),
        "service_url": "http://127.0.0.1:8000",
        **bad,
    }
    with pytest.raises(ValueError):
        RtmpConfig(**fields)  # type: ignore[arg-type]


def test_the_shipped_file_is_what_rtmp_config_prints_for_the_defaults() -> None:
    defaults = RtmpConfig(
        listen="1935",
        prefix=PurePosixPath("/var/lib/command-center/rtmp"),
        service_url="http://127.0.0.1:8000",
    )
    assert SHIPPED.read_text() == render(defaults)
