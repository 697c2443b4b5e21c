"""Coordinate reference systems met at the edge: WGS84 and China's GCJ-02.

Everything inside the command center is WGS84 (EPSG:4326). Chinese map vendors
(AMap, Tencent) and many municipal exports deliver GCJ-02, the "Mars" coordinates
that shift points by a few hundred metres; convert them here, once, on the way in.
All coordinates are (lon, lat) in decimal degrees.
"""

import enum
import math

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_SEMI_MAJOR_AXIS = 6378245.0
_ECCENTRICITY_SQUARED = 0.00669342162296594323

# The customary rectangle outside which GCJ-02 equals WGS84.
_GCJ02_MIN_LON, _GCJ02_MAX_LON = 72.004, 137.8347
_GCJ02_MIN_LAT, _GCJ02_MAX_LAT = 0.8293, 55.8271

_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30


class CRS(enum.StrEnum):
    """A coordinate reference system the command center accepts at its edge."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"


class CoordinateError(ValueError):
    """A coordinate or CRS name that cannot be used; the message names the problem."""


def parse_crs(crs: CRS | str) -> CRS:
    """Return the CRS named by ``crs``, compared case-insensitively.

    Raises CoordinateError naming the allowed values when ``crs`` is unknown.
    """
    try:
        return CRS(str(crs).lower())
    except ValueError:
        allowed = ", ".join(member.value for member in CRS)
        raise CoordinateError(f"unknown crs {crs!r}; allowed: {allowed}") from None


def check_lon_lat(lon: float, lat: float) -> None:
    """Raise CoordinateError unless lon is in [-180, 180] and lat in [-90, 90].

    NaN and infinities are refused too; the message names the offending axis.
    """
    _check_axis("lon", lon, 180.0)
    _check_axis("lat", lat, 90.0)


def _check_axis(axis: str, value: float, limit: float) -> None:
    if not math.isfinite(value):
        raise CoordinateError(f"{axis} is not a finite number")
    if not -limit <= value <= limit:
        raise CoordinateError(f"{axis} {value} is outside {-limit:g}..{limit:g}")


def is_in_gcj02_area(lon: float, lat: float) -> bool:
    """Tell whether (lon, lat) lies in the rectangle where GCJ-02 differs from WGS84."""
    return _GCJ02_MIN_LON <= lon <= _GCJ02_MAX_LON and _GCJ02_MIN_LAT <= lat <= _GCJ02_MAX_LAT


def _sine_terms(x: float, y: float, first: float, second: float, divisor: float) -> float:
    """Shared periodic terms of the GCJ-02 polynomials; ``y`` drives the slow waves."""
    fast_waves = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    medium_waves = 20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)
    slow_waves = first * math.sin(y / 12.0 * math.pi) + second * math.sin(y * math.pi / divisor)
    return (fast_waves + medium_waves + slow_waves) * 2.0 / 3.0


def _lat_shift_metres_like(x: float, y: float) -> float:
    base = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    return base + _sine_terms(x, y, 160.0, 320.0, 30.0)


def _lon_shift_metres_like(x: float, y: float) -> float:
    base = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    return base + _sine_terms(x, x, 150.0, 300.0, 30.0)


def _gcj02_offset(lon: float, lat: float) -> tuple[float, float]:
    """Return the (dlon, dlat) in degrees that GCJ-02 adds to a WGS84 point."""
    x, y = lon - 105.0, lat - 35.0
    rad_lat = math.radians(lat)
    magic = 1.0 - _ECCENTRICITY_SQUARED * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    meridian_radius = _SEMI_MAJOR_AXIS * (1.0 - _ECCENTRICITY_SQUARED) / (magic * sqrt_magic)
    parallel_radius = _SEMI_MAJOR_AXIS / sqrt_magic * math.cos(rad_lat)
    dlat = _lat_shift_metres_like(x, y) * 180.0 / (meridian_radius * math.pi)
    dlon = _lon_shift_metres_like(x, y) * 180.0 / (parallel_radius * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Obfuscate a WGS84 point into GCJ-02; identity outside the China rectangle.

    Does not validate: call check_lon_lat first. Non-finite input gives
    non-finite output rather than an error.
    """
    if not is_in_gcj02_area(lon, lat):
        return lon, lat
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Recover the WGS84 point whose GCJ-02 image is (lon, lat); identity outside China.

    Fixed-point iteration until the forward transform of the estimate matches the
    input within 1e-9 degrees (typically 3-5 rounds). Never raises: where no exact
    preimage exists (on the rim of the China rectangle, where the transform jumps)
    it returns the estimate with the smallest residual after 30 rounds.
    Does not validate: call check_lon_lat first.
    """
    if not is_in_gcj02_area(lon, lat):
        return lon, lat
    best = (lon, lat)
    best_residual = math.inf
    estimate_lon, estimate_lat = lon, lat
    for _ in range(_INVERSE_MAX_ITERATIONS):
        forward_lon, forward_lat = wgs84_to_gcj02(estimate_lon, estimate_lat)
        error_lon, error_lat = forward_lon - lon, forward_lat - lat
        residual = max(abs(error_lon), abs(error_lat))
        if residual < best_residual:
            best, best_residual = (estimate_lon, estimate_lat), residual
        if residual < _INVERSE_TOLERANCE_DEG:
            break
        estimate_lon, estimate_lat = estimate_lon - error_lon, estimate_lat - error_lat
    return best


def to_wgs84(lon: float, lat: float, crs: CRS | str) -> tuple[float, float]:
    """Validate a point given in ``crs`` and return it in WGS84.

    ``crs`` may be a CRS or its name in any case ("GCJ02"). Raises CoordinateError
    for an unknown crs (naming the allowed values) or an invalid coordinate.
    """
    source = parse_crs(crs)
    check_lon_lat(lon, lat)
    if source is CRS.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return lon, lat
