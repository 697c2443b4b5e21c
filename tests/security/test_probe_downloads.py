"""Issue 15, finding 9: a staff download of an original photo was served as image/jpeg
without nosniff and cached for an hour. Now the original and the reporter-contact answer
carry `X-Content-Type-Options: nosniff`, a `Content-Disposition` and
`Cache-Control: private, no-store`."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.security.world import World


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


def assert_personal(answer: httpx.Response, disposition: str) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.headers["Content-Disposition"] == disposition


def test_an_original_photo_and_the_reporter_contact_are_never_cached(world: World) -> None:
    operator = world.headers("operator")
    with httpx.Client(base_url=world.url, timeout=10, headers=operator) as client:
        added = client.post(
            f"/api/v1/clues/{world.clue_a}/evidence",
            files={"photo": ("scene.jpg", jpeg(), "image/jpeg")},
        )
        assert added.status_code == 201, added.text
        [item] = [
            e
            for e in client.get(f"/api/v1/clues/{world.clue_a}/evidence").json()
            if e["kind"] == "photo"
        ][-1:]
        original = client.get(item["url"])
        assert original.headers["content-type"] == "image/jpeg"
        assert_personal(
            original, f'attachment; filename="evidence-{world.clue_a}-{item["id"]}.jpg"'
        )
        contact = client.get(f"/api/v1/clues/{world.clue_a}/reporter", params={"reason": "回访"})
        assert_personal(contact, f'attachment; filename="reporter-{world.clue_a}.json"')
        assert contact.json()["phone"] == "13905710001"
