"""Where evidence bytes live (the MediaStore protocol): a content-addressed directory on
this host (DirectoryStore, the default) or an S3-compatible bucket that several hosts
share (ObjectStore: MinIO, Ceph RGW, a government cloud's object service, AWS S3).

Keys are `<area>/<hash[:2]>/<hash><suffix>`, the hash being the SHA-256 of the bytes:
same bytes, same key, in either store. Every read checks the bytes against the hash in
their key; a file that fails is logged as damaged and refused with Damaged, never served
as evidence. Files are written before the database row that refers to them; a failed
transaction leaves an unreferenced file behind, never a row without its file.

The calls are synchronous (as the local folder always was): an object store on the same
network answers a photo in milliseconds; a slow one slows the request that reads it.

Large files (stream recordings) go in and out as files, never as one bytes object:
`put_file` streams from a file whose SHA-256 the caller already has (and checks it on
the way), `get_file` streams into a local file and checks it before handing it over.
boto3's transfer manager sends a file over 8 MiB as a multipart upload.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol

from command_center.errors import Damaged, NotFound
from command_center.evidence.model import SUFFIXES, sha256_hex

CHUNK = 1024 * 1024

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

_DIGEST = re.compile(r"[0-9a-f]{64}")


class MediaStore(Protocol):
    def put(self, content: bytes, media_type: str, *, area: str) -> str:
        """Store bytes; returns the key to read them back."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under `key`: NotFound when there are none, Damaged when they fail
        their SHA-256 check."""
        ...

    def put_file(self, path: Path, media_type: str, *, area: str, sha256: str) -> str:
        """Store a file, streaming it, under the key of `sha256`; Damaged when the file's
        bytes are not the ones that hash names (nothing is stored then)."""
        ...

    def get_file(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the bytes under `key`, checked, for as long as the context
        lasts: NotFound, Damaged as `get`."""
        ...


def content_key(content: bytes, media_type: str, area: str) -> str:
    return digest_key(sha256_hex(content), media_type, area)


def digest_key(digest: str, media_type: str, area: str) -> str:
    return f"{area}/{digest[:2]}/{digest}{SUFFIXES.get(media_type, '.bin')}"


class Readable(Protocol):
    def read(self, amt: int, /) -> bytes: ...


def copy_hashing(source: Readable, target: IO[bytes]) -> str:
    """Copy in chunks; the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_damaged(key: str) -> None:
    log.error("evidence file %s fails its SHA-256 check; not served", key)
    raise Damaged("the evidence file fails its integrity check and is not served")


def _key_digest(key: str) -> str | None:
    digest = PurePosixPath(key).name.split(".", 1)[0]
    return digest if _DIGEST.fullmatch(digest) else None


def checked(key: str, content: bytes) -> bytes:
    """`content` if its SHA-256 is the one its key names; Damaged (and a log line for
    whoever keeps the store) if not."""
    digest = _key_digest(key)
    if digest is not None and sha256_hex(content) != digest:
        _refuse_damaged(key)
    return content


def _write_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write` into a temporary file beside `target`, synced, then renamed onto it: a
    reader sees the whole file or none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DirectoryStore:
    """Files under one directory, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes, media_type: str, *, area: str) -> str:
        key = content_key(content, media_type, area)
        target = self.path(key)
        if target.exists():
            return key
        _write_atomically(target, lambda out: out.write(content))
        return key

    def get(self, key: str) -> bytes:
        try:
            return checked(key, self.path(key).read_bytes())
        except FileNotFoundError:
            raise NotFound("the evidence file is missing") from None

    def put_file(self, path: Path, media_type: str, *, area: str, sha256: str) -> str:
        key = digest_key(sha256, media_type, area)
        target = self.path(key)
        if target.exists():
            return key

        def copy_checked(out: BinaryIO) -> None:
            with path.open("rb") as source:
                if copy_hashing(source, out) != sha256:
                    _refuse_damaged(str(path.name))

        _write_atomically(target, copy_checked)
        return key

    @contextmanager
    def get_file(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise NotFound("the evidence file is missing")
        if (digest := _key_digest(key)) is not None and file_sha256(path) != digest:
            _refuse_damaged(key)
        yield path

    def path(self, key: str) -> Path:
        resolved = (self.root / key).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise NotFound("no such evidence file")
        return resolved


class ObjectStore:
    """Objects in one bucket of an S3-compatible store, under `prefix`, through boto3.

    `put` skips the upload when the object is there already (same key, same bytes) and
    sends the SHA-256 along (x-amz-checksum-sha256), so the store refuses bytes damaged on
    the way. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, a profile, an instance role)."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def put(self, content: bytes, media_type: str, *, area: str) -> str:
        key = content_key(content, media_type, area)
        if not self._exists(key):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=content,
                ContentType=media_type,
                ChecksumAlgorithm="SHA256",
            )
        return key

    def get(self, key: str) -> bytes:
        if ".." in PurePosixPath(key).parts:
            raise NotFound("no such evidence file")
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            raise NotFound("the evidence file is missing") from None
        return checked(key, answer["Body"].read())

    def put_file(self, path: Path, media_type: str, *, area: str, sha256: str) -> str:
        """Streamed by boto3's transfer manager (multipart past 8 MiB, each part with its
        own SHA-256 checksum); the file is hashed first, as it is read, so that bytes
        changed since they were recorded are refused before anything is sent."""
        key = digest_key(sha256, media_type, area)
        if file_sha256(path) != sha256:
            _refuse_damaged(path.name)
        if not self._exists(key):
            with path.open("rb") as source:
                self.client.upload_fileobj(
                    source,
                    self.bucket,
                    self.prefix + key,
                    ExtraArgs={"ContentType": media_type, "ChecksumAlgorithm": "SHA256"},
                )
        return key

    @contextmanager
    def get_file(self, key: str) -> Iterator[Path]:
        if ".." in PurePosixPath(key).parts:
            raise NotFound("no such evidence file")
        with tempfile.TemporaryDirectory(prefix="command-center-evidence-") as folder:
            local = Path(folder) / PurePosixPath(key).name
            try:
                with local.open("wb") as out:
                    answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
                    copied = copy_hashing(answer["Body"], out)
            except self.client.exceptions.NoSuchKey:
                raise NotFound("the evidence file is missing") from None
            if (digest := _key_digest(key)) is not None and copied != digest:
                _refuse_damaged(key)
            yield local

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def object_store(*, bucket: str, prefix: str, endpoint_url: str | None, region: str) -> ObjectStore:
    """An ObjectStore with a boto3 client for `endpoint_url` (None: AWS itself)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},  # MinIO and most private stores
        ),
    )
    return ObjectStore(client, bucket, prefix)
