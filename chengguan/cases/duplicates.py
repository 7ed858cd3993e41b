"""Likely duplicates: open cases of the same category close by, reported about the same time.

At registration the shift leader sees them nearest first and may mark the new case as a
duplicate (重复案件). The distance maths are plain functions (no database); the selector
at the bottom narrows candidates with an indexed bounding box on latitude and longitude, then
measures each one exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from chengguan.cases.workflow import OPEN

if TYPE_CHECKING:
    from chengguan.cases.models import Case

# Mean Earth radius (IUGG), metres. The spherical error (< 0.5 %) is far below GPS noise.
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine formula)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards against rounding pushing h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True)
class Box:
    south: float
    north: float
    west: float
    east: float


def bounding_box(lat: float, lon: float, radius_m: float) -> Box:
    """A latitude/longitude box that contains every point within ``radius_m`` of the centre.

    The longitude half-width uses the latitude of the box edge nearer the pole, where a
    degree of longitude is shortest, so the box never cuts off a point inside the circle.
    Near a pole (or for a radius that wraps the globe) the box spans all longitudes.
    """
    dlat = radius_m / METRES_PER_DEGREE_LAT
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    shrink = math.cos(math.radians(widest))
    if shrink <= 1e-9 or radius_m >= METRES_PER_DEGREE_LAT * 90:
        return Box(south, north, -180.0, 180.0)
    dlon = radius_m / (METRES_PER_DEGREE_LAT * shrink)
    if dlon >= 180:
        return Box(south, north, -180.0, 180.0)
    # A box crossing the antimeridian is widened to all longitudes (no district spans it).
    west, east = lon - dlon, lon + dlon
    if west < -180 or east > 180:
        return Box(south, north, -180.0, 180.0)
    return Box(south, north, west, east)


@dataclass(frozen=True)
class Candidate:
    case: Case
    distance_m: float


def nearest(
    origin: tuple[float, float],
    points: list[tuple[int, float, float]],
    radius_m: float,
    limit: int,
) -> list[tuple[int, float]]:
    """``(id, distance)`` of the points within ``radius_m`` of ``origin``, nearest first
    (ties by id, so the order never depends on the database)."""
    lat, lon = origin
    measured = [(distance_m(lat, lon, plat, plon), pk) for pk, plat, plon in points]
    inside = sorted((d, pk) for d, pk in measured if d <= radius_m)
    return [(pk, d) for d, pk in inside[:limit]]


def likely_duplicates(
    case: Case,
    limit: int = 5,
    *,
    radius_m: float | None = None,
    window_hours: float | None = None,
) -> list[Candidate]:
    """Open cases of ``case``'s category within ``radius_m`` (default
    ``CHENGGUAN_DUPLICATE_RADIUS_M``, 100 m) reported within ``window_hours`` (default
    ``CHENGGUAN_DUPLICATE_WINDOW_HOURS``, 72 h) before or after it, nearest first.

    A case without a point has no likely duplicates: addresses typed by hand are too varied
    to compare.
    """
    from chengguan.cases.models import Case

    if case.lat is None or case.lon is None or limit <= 0:
        return []
    radius = float(radius_m if radius_m is not None else settings.CHENGGUAN_DUPLICATE_RADIUS_M)
    window = dt.timedelta(
        hours=float(window_hours if window_hours is not None else settings.CHENGGUAN_DUPLICATE_WINDOW_HOURS)
    )
    box = bounding_box(case.lat, case.lon, radius)
    rows = (
        Case.objects.filter(
            category_id=case.category_id,
            status__in=[s.value for s in OPEN],
            reported_at__gte=case.reported_at - window,
            reported_at__lte=case.reported_at + window,
            lat__gte=box.south,
            lat__lte=box.north,
            lon__gte=box.west,
            lon__lte=box.east,
        )
        .exclude(pk=case.pk)
        .values_list("pk", "lat", "lon")
    )
    points = [(pk, lat, lon) for pk, lat, lon in rows if lat is not None and lon is not None]
    found = nearest((case.lat, case.lon), points, radius, limit)
    by_id = Case.objects.select_related("category").in_bulk([pk for pk, _ in found])
    return [Candidate(by_id[pk], d) for pk, d in found if pk in by_id]
