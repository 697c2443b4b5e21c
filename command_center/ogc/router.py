"""`/ogc`: OGC API – Features (landing page, conformance, collections, items as GeoJSON,
one item) and OGC API – Tiles (vector tiles, WebMercatorQuad), scoped by the token.

Every link is absolute, built from the request's own base URL (behind a proxy, uvicorn's
proxy headers make it the public one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.scope import Scope
from command_center.dependencies import ReadSession
from command_center.errors import InvalidInput
from command_center.ogc import service
from command_center.ogc.model import (
    COLLECTIONS,
    CONFORMANCE,
    CRS84,
    GEOJSON,
    ITEMS_PARAMETERS,
    JSON,
    MVT,
    OTHER_PARAMETERS,
    WEB_MERCATOR_QUAD,
    WEB_MERCATOR_QUAD_URI,
    Collection,
    Extent,
    Feature,
    check_format,
    check_parameters,
    check_tile,
    collection,
    parse_bbox,
    parse_datetime,
    parse_page,
    tile_matrix_set,
)
from command_center.realtime.events import iso_utc

router = APIRouter(prefix="/ogc", tags=["OGC API"])

TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
SCHEME_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _zone(request: Request) -> str:
    """The local time zone, by which the squads' rosters say who is on duty."""
    return str(request.app.state.settings.timezone)


def _link(href: str, rel: str, kind: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": kind}
    if title:
        link["title"] = title
    return link


def _plain(request: Request) -> None:
    """Resources that take no parameter but `f` (json) and `token`."""
    check_parameters(set(request.query_params), OTHER_PARAMETERS)
    check_format(request.query_params.get("f"))


def _json(body: dict[str, Any], kind: str = JSON) -> JSONResponse:
    return JSONResponse(body, media_type=kind)


@router.get("", summary="Landing page")
async def landing(request: Request, by: CurrentPrincipal) -> JSONResponse:
    _plain(request)
    service.scope_of(by)
    base, root = _base(request), str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "Command Center — OGC API",
            "description": "Jurisdictions, open clues and squads of the enforcement command "
            "center as OGC API – Features and vector tiles (CRS84 / WebMercatorQuad).",
            "links": [
                _link(base, "self", JSON, "This document"),
                _link(
                    f"{root}/openapi.json",
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.1",
                    "The API definition",
                ),
                _link(f"{root}/docs", "service-doc", "text/html", "The API documentation"),
                _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
                _link(f"{base}/collections", "data", JSON, "The collections"),
                _link(
                    f"{base}/tileMatrixSets",
                    "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                    JSON,
                    "Tile matrix sets",
                ),
            ],
        }
    )


@router.get("/conformance", summary="Conformance classes")
async def conformance(request: Request, by: CurrentPrincipal) -> JSONResponse:
    _plain(request)
    service.scope_of(by)
    return _json({"conformsTo": list(CONFORMANCE)})


def _describe(request: Request, info: Collection, extent: Extent) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{info.id.value}"
    body: dict[str, Any] = {
        "id": info.id.value,
        "title": info.title,
        "description": info.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            _link(base, "self", JSON, info.title),
            _link(f"{base}/items", "items", GEOJSON, "The features"),
            _link(f"{base}/tiles", TILESETS_REL, JSON, "Vector tiles"),
        ],
    }
    spatial: dict[str, Any] = {"bbox": [list(extent.bbox)] if extent.bbox else [], "crs": CRS84}
    body["extent"] = {"spatial": spatial}
    if info.temporal:
        first = iso_utc(extent.first) if extent.first else None
        body["extent"]["temporal"] = {"interval": [[first, None]], "trs": GREGORIAN}
    return body


@router.get("/collections", summary="The collections")
async def collections(request: Request, session: ReadSession, by: CurrentPrincipal) -> JSONResponse:
    _plain(request)
    scope = service.scope_of(by)
    described = []
    for info in COLLECTIONS.values():
        found = await service.extent(
            session=session, collection=info.id, scope=scope, zone=_zone(request)
        )
        described.append(_describe(request, info, found))
    base = _base(request)
    return _json(
        {
            "links": [_link(f"{base}/collections", "self", JSON, "The collections")],
            "collections": described,
        }
    )


@router.get("/collections/{collection_id}", summary="One collection")
async def describe(
    collection_id: str, request: Request, session: ReadSession, by: CurrentPrincipal
) -> JSONResponse:
    _plain(request)
    info, scope = collection(collection_id), service.scope_of(by)
    found = await service.extent(
        session=session, collection=info.id, scope=scope, zone=_zone(request)
    )
    return _json(_describe(request, info, found))


def _feature(request: Request, info: Collection, feature: Feature) -> dict[str, Any]:
    href = f"{_base(request)}/collections/{info.id.value}/items/{feature.id}"
    return {
        "type": "Feature",
        "id": feature.id,
        "geometry": feature.geometry,
        "properties": feature.properties,
        "links": [_link(href, "self", GEOJSON)],
    }


def _page_link(request: Request, rel: str, offset: int, limit: int) -> dict[str, str]:
    query = {k: v for k, v in request.query_params.items() if k not in ("offset", "token")}
    query.update({"offset": str(offset), "limit": str(limit)})
    href = str(request.url.replace(query=urlencode(query)))
    return _link(href, rel, GEOJSON, {"next": "Next page", "prev": "Previous page"}[rel])


@router.get("/collections/{collection_id}/items", summary="Features, as GeoJSON")
async def items(
    collection_id: str, request: Request, session: ReadSession, by: CurrentPrincipal
) -> JSONResponse:
    """`bbox` (CRS84), `datetime` (RFC 3339 instant or interval; open clues by the time
    they were received), `limit` (default 100, at most 10000) and `offset`; `next` and
    `prev` links page through the rest."""
    info = collection(collection_id)
    query = request.query_params
    check_parameters(set(query), ITEMS_PARAMETERS)
    check_format(query.get("f"))
    scope = service.scope_of(by)
    limit, offset = parse_page(query.get("limit"), query.get("offset"))
    bbox, when = parse_bbox(query.get("bbox")), parse_datetime(query.get("datetime"))
    features, matched = await service.items(
        session=session,
        collection=info.id,
        scope=scope,
        zone=_zone(request),
        bbox=bbox,
        when=when,
        limit=limit,
        offset=offset,
    )
    self_query = {k: v for k, v in query.items() if k != "token"}
    links = [
        _link(str(request.url.replace(query=urlencode(self_query))), "self", GEOJSON),
        _link(f"{_base(request)}/collections/{info.id.value}", "collection", JSON),
    ]
    if offset + len(features) < matched:
        links.append(_page_link(request, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(0, offset - limit), limit))
    return _json(
        {
            "type": "FeatureCollection",
            "features": [_feature(request, info, f) for f in features],
            "links": links,
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": iso_utc(datetime.now(UTC)),
        },
        GEOJSON,
    )


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def feature(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
) -> JSONResponse:
    _plain(request)
    info, scope = collection(collection_id), service.scope_of(by)
    found = await service.item(
        session=session,
        collection=info.id,
        scope=scope,
        zone=_zone(request),
        feature_id=feature_id,
    )
    body = _feature(request, info, found)
    body["links"].append(_link(f"{_base(request)}/collections/{info.id.value}", "collection", JSON))
    return _json(body, GEOJSON)


# --- tiles ---------------------------------------------------------------------------


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request, by: CurrentPrincipal) -> JSONResponse:
    _plain(request)
    service.scope_of(by)
    href = f"{_base(request)}/tileMatrixSets/{WEB_MERCATOR_QUAD}"
    return _json(
        {
            "tileMatrixSets": [
                {
                    "id": WEB_MERCATOR_QUAD,
                    "title": "Google Maps Compatible for the World",
                    "uri": WEB_MERCATOR_QUAD_URI,
                    "links": [_link(href, "self", JSON)],
                }
            ]
        }
    )


@router.get("/tileMatrixSets/{tms}", summary="A tile matrix set")
async def tile_matrix_set_definition(
    tms: str, request: Request, by: CurrentPrincipal
) -> JSONResponse:
    _plain(request)
    service.scope_of(by)
    _check_tms(tms)
    return _json(tile_matrix_set())


def _check_tms(tms: str) -> None:
    if tms != WEB_MERCATOR_QUAD:
        raise InvalidInput(f"the only tile matrix set is {WEB_MERCATOR_QUAD}, not {tms!r}")


def _tileset(request: Request, info: Collection) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{info.id.value}/tiles/{WEB_MERCATOR_QUAD}"
    template = f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    return {
        "title": f"{info.title} (WebMercatorQuad)",
        "dataType": "vector",
        "crs": MERCATOR,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD_URI,
        "links": [
            _link(base, "self", JSON),
            _link(f"{_base(request)}/tileMatrixSets/{WEB_MERCATOR_QUAD}", SCHEME_REL, JSON),
            {**_link(template, "item", MVT, "Vector tiles"), "templated": True},
        ],
        "layers": [{"id": info.id.value, "dataType": "vector"}],
    }


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection")
async def tilesets(collection_id: str, request: Request, by: CurrentPrincipal) -> JSONResponse:
    _plain(request)
    info = collection(collection_id)
    service.scope_of(by)
    return _json({"tilesets": [_tileset(request, info)]})


@router.get("/collections/{collection_id}/tiles/{tms}", summary="A vector tileset")
async def tileset(
    collection_id: str, tms: str, request: Request, by: CurrentPrincipal
) -> JSONResponse:
    _plain(request)
    info = collection(collection_id)
    service.scope_of(by)
    _check_tms(tms)
    return _json(_tileset(request, info))


@router.get(
    "/collections/{collection_id}/tiles/{tms}/{z}/{y}/{x}",
    summary="A vector tile (Mapbox Vector Tile)",
    response_class=Response,
)
async def vector_tile(
    collection_id: str,
    tms: str,
    z: int,
    y: int,
    x: int,
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
) -> Response:
    """`{z}/{y}/{x}` are tileMatrix, tileRow, tileCol of WebMercatorQuad (the XYZ scheme
    of web maps). An area without features gives an empty tile."""
    _plain(request)
    info = collection(collection_id)
    scope: Scope = service.scope_of(by)
    _check_tms(tms)
    check_tile(z, y, x)
    body = await service.tile(
        session=session, collection=info.id, scope=scope, zone=_zone(request), z=z, x=x, y=y
    )
    return Response(body, media_type=MVT, headers={"Cache-Control": "private, max-age=30"})
