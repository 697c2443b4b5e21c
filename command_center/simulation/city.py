"""The demo city as the simulation learns it: from the service's public answers only
(the city outline and districts, the Open311 catalogue, the squads on the map)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from command_center.simulation.model import offset

# Matters a resident or grid worker in the street reports most (city appearance: the
# enforcement bureau, whose squads serve every district of the demo city).
STREET_GROUPS = ("市容环境",)
WORDS = {
    "CG-001": ["人行道上摆摊卖水果", "路口有流动摊贩占道", "早市摊位摆到了机动车道"],
    "CG-002": ["店铺把货架摆到门外人行道", "饭店在门口占道经营", "五金店出店经营堵塞通道"],
    "CG-004": ["电线杆上贴满小广告", "小区围墙被乱涂写", "公交站牌贴了牛皮癣广告"],
}
DEFAULT_WORDS = ["路边发现问题，请尽快处理", "影响通行，请派人看看", "居民反映多次，希望处理"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where tips come from: around a district seat or a squad base, inside its district."""

    name: str
    centre: tuple[float, float]
    area: PreparedGeometry


@dataclass(frozen=True, slots=True)
class Squad:
    code: str
    name: str
    base: tuple[float, float]
    devices: tuple[str, ...]
    on_duty: bool


@dataclass(frozen=True, slots=True)
class City:
    places: tuple[Place, ...]
    matters: tuple[str, ...]
    squads: tuple[Squad, ...]

    def spot(self, rng: random.Random, radius_m: float) -> tuple[float, float]:
        """A point within `radius_m` of a place's centre and inside its district."""
        for _ in range(50):
            place = rng.choice(self.places)
            distance, bearing = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            point = offset(place.centre, distance * math.sin(bearing), distance * math.cos(bearing))
            if place.area.contains(Point(point)):
                return round(point[0], 6), round(point[1], 6)
        return self.places[0].centre

    def words(self, matter: str, rng: random.Random) -> str:
        return rng.choice(WORDS.get(matter, DEFAULT_WORDS))


def city_from(
    jurisdictions: dict[str, Any], services: list[dict[str, Any]], squads: list[dict[str, Any]]
) -> City:
    """The city from `GET /api/v1/public/jurisdictions?max_level=district`,
    `GET /open311/v2/services.json` and `GET /api/v1/map/squads`. ValueError when the
    service has no district or no matter to report (not a loaded city)."""
    districts = [f for f in jurisdictions.get("features", []) if f["properties"]["level"] != "city"]
    if not districts:
        raise ValueError("the service has no districts loaded: is the demo city imported?")
    areas: dict[str, BaseGeometry] = {}
    places = []
    for feature in districts:
        area = shape(feature["geometry"])
        areas[feature["properties"]["code"]] = area
        label = feature["properties"]["label"]
        places.append(Place(feature["properties"]["name"], (label[0], label[1]), prep(area)))
    for squad in squads:
        base = (squad["base"]["lon"], squad["base"]["lat"])
        inside = [a for a in areas.values() if a.contains(Point(base))]
        if inside:
            places.append(Place(squad["name"], base, prep(inside[0])))
    matters = tuple(
        s["service_code"] for s in services if s.get("group") in STREET_GROUPS
    ) or tuple(s["service_code"] for s in services)
    if not matters:
        raise ValueError("the service offers no matter to report")
    return City(
        places=tuple(places),
        matters=matters,
        squads=tuple(
            Squad(
                code=s["code"],
                name=s["name"],
                base=(s["base"]["lon"], s["base"]["lat"]),
                devices=tuple(s["devices"]),
                on_duty=bool(s["on_duty"]),
            )
            for s in squads
        ),
    )
