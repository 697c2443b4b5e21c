"""The docs site's hooks (scripts/mkdocs_hooks.py): the configuration reference covers every
setting, and the offline check tells a page that loads from another host from one that
merely links to it."""

from __future__ import annotations

import pytest
from mkdocs.exceptions import PluginError

from command_center.settings import Settings
from scripts import mkdocs_hooks


def test_the_configuration_reference_lists_every_setting_with_its_default() -> None:
    table = mkdocs_hooks.settings_table()
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in table
    assert "| `WEBSOCKET_QUEUE_SIZE` | `2000` | ≥ 10 |" in table
    assert "| `ENVIRONMENT` | `development` | `development`, `test`, `production` |" in table
    assert "| `MAX_BODY_BYTES` | `1048576` (1 MiB) |" in table


def test_a_setting_without_a_description_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings.model_fields["timezone"], "description", None)
    with pytest.raises(PluginError, match="TIMEZONE"):
        mkdocs_hooks.settings_table()


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://unpkg.com/iframe-worker/shim"></script>',
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">',
        "<style>body { background: url('https://example.org/a.png') }</style>",
        '<img alt="" src="http://tiles.example.org/1/2/3.png">',
    ],
)
def test_loading_from_another_host_is_found(html: str) -> None:
    assert mkdocs_hooks.LOADING.search(html)


def test_a_link_to_another_host_is_not_loading() -> None:
    html = (
        '<a href="https://pypi.org/project/cnmaps/">cnmaps</a><img src="../screenshots/wall.png">'
    )
    assert not mkdocs_hooks.LOADING.search(html)


def test_angle_brackets_in_a_description_are_shown_not_taken_for_html() -> None:
    cell = mkdocs_hooks._cell("empty means command_center:events:<database name>; `Bearer <it>`")
    assert cell == "empty means command_center:events:&lt;database name&gt;; `Bearer <it>`"
