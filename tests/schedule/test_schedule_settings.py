"""Which schedule the environment asks for, and which name wins."""

from __future__ import annotations

import logging

import pytest

from shisho_jobs.errors import InvalidSetting
from shisho_jobs.schedule import ScheduleSettings


def test_a_scheduled_global_scan_every_hour_by_default() -> None:
    assert ScheduleSettings.from_env({}).global_interval_seconds == 3600


def test_minutes_set_the_interval_and_0_means_never() -> None:
    assert (
        ScheduleSettings.from_env({"SHISHO_SCAN_INTERVAL_MINUTES": "90"}).global_interval_seconds
        == 5400
    )
    assert (
        ScheduleSettings.from_env({"SHISHO_SCAN_INTERVAL_MINUTES": "0"}).global_interval_seconds
        is None
    )


def test_the_old_seconds_setting_still_works_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    settings = ScheduleSettings.from_env({"SHISHO_GLOBAL_SCAN_INTERVAL": "600"})
    assert settings.global_interval_seconds == 600
    assert "SHISHO_GLOBAL_SCAN_INTERVAL (seconds) is deprecated" in caplog.text
    assert (
        ScheduleSettings.from_env({"SHISHO_GLOBAL_SCAN_INTERVAL": "off"}).global_interval_seconds
        is None
    )


def test_minutes_win_over_the_old_setting(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    settings = ScheduleSettings.from_env(
        {"SHISHO_SCAN_INTERVAL_MINUTES": "2", "SHISHO_GLOBAL_SCAN_INTERVAL": "600"}
    )
    assert settings.global_interval_seconds == 120
    assert "ignored" in caplog.text


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"SHISHO_SCAN_INTERVAL_MINUTES": "hourly"}, "SHISHO_SCAN_INTERVAL_MINUTES"),
        ({"SHISHO_SCAN_INTERVAL_MINUTES": "-5"}, "SHISHO_SCAN_INTERVAL_MINUTES"),
        ({"SHISHO_GLOBAL_SCAN_INTERVAL": "soon"}, "SHISHO_GLOBAL_SCAN_INTERVAL"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidSetting) as raised:
        ScheduleSettings.from_env(environ)
    assert raised.value.name == name
