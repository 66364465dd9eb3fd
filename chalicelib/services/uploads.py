"""Org uploads to the uploads bucket: pictures, and app packages (apk, ipa).

A file's type is what its first bytes say (PNG, JPEG, GIF, WebP; a zip archive for apk
and ipa), and its name's extension must agree; the declared Content-Type is not trusted.
Objects are keyed by the org and the caller's operation id
(`org/<org_id>/<kind>/<sha256(operation id)[:32]>.<ext>`), so a retried upload writes the
same object once; the same id with other content is refused.

Size limits: API Gateway takes at most 10 MB and Lambda 6 MB per event, and binary
bodies arrive base64-encoded (4/3 larger), so a file sent through the API is at most
MAX_PIC_BYTES (pictures) or MAX_INLINE_FILE_BYTES (packages). A larger package is
uploaded straight to S3 with a presigned POST (`presign_file`) whose policy fixes the
key, the content type and the largest size (MAX_FILE_BYTES).

Answers carry the object key and a presigned GET URL valid for URL_SECONDS (the bucket
is private).
"""
from __future__ import annotations

import hashlib
import re
from typing import Optional

from chalicelib import settings
from chalicelib.domain.errors import InvalidParameter, MissingParameter, PayloadTooLarge, UnsupportedFileType
from chalicelib.gateways import aws
from chalicelib.services import idempotency

MAX_PIC_BYTES = 2 * 1024 * 1024
MAX_INLINE_FILE_BYTES = 4 * 1024 * 1024
MAX_FILE_BYTES = 300 * 1024 * 1024
URL_SECONDS = 7 * 24 * 3600
POST_SECONDS = 15 * 60
_NAME = re.compile(r"^[\w.\- ]{1,128}$")

# extension -> (content type, test on the first bytes)
PICTURES = {
    "png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "gif": ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
}
_ZIP = lambda b: b.startswith(b"PK\x03\x04")  # noqa: E731
PACKAGES = {
    "apk": ("application/vnd.android.package-archive", _ZIP),
    "ipa": ("application/octet-stream", _ZIP),
}


def _extension(filename: Optional[str], allowed: dict) -> str:
    name = (filename or "").strip()
    if not name:
        raise MissingParameter("file", "The file needs a name")
    if not _NAME.match(name) or "." not in name:
        raise InvalidParameter("file", "File name is not valid")
    extension = name.rsplit(".", 1)[1].lower()
    if extension not in allowed:
        raise UnsupportedFileType("file", f"Allowed here: {', '.join(sorted(allowed))}")
    return extension


def _key(org_id: str, kind: str, operation_id: str, extension: str) -> str:
    digest = hashlib.sha256(operation_id.encode("utf-8")).hexdigest()[:32]
    return f"org/{org_id}/{kind}/{digest}.{extension}"


def _url(key: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings.uploads_bucket(), "Key": key}, ExpiresIn=URL_SECONDS)


def _store(org_id: str, kind: str, filename: str, data: bytes, allowed: dict, limit: int,
           operation_id: str) -> dict:
    extension = _extension(filename, allowed)
    if not data:
        raise MissingParameter("file", "The file is empty")
    if len(data) > limit:
        raise PayloadTooLarge(f"File is larger than {limit // (1024 * 1024)} MB")
    content_type, looks_right = allowed[extension]
    if not looks_right(data[:16]):
        raise UnsupportedFileType("file", f"File content is not {extension}")
    sha256 = hashlib.sha256(data).hexdigest()
    key = _key(org_id, kind, operation_id, extension)
    payload = {"kind": kind, "name": filename, "sha256": sha256, "size": len(data)}

    def effect() -> dict:
        aws.client("s3").put_object(Bucket=settings.uploads_bucket(), Key=key, Body=data, ContentType=content_type,
                                    Metadata={"org": org_id, "sha256": sha256})
        return {"key": key, "file_name": filename, "size": len(data), "content_type": content_type,
                "sha256": sha256}

    stored = idempotency.run_outside(f"orgupload:{org_id}", operation_id, payload, effect)
    return {**stored, "url": _url(stored["key"])}


def upload_pic(org_id: str, *, filename: str, data: bytes, operation_id: str) -> dict:
    return _store(org_id, "pic", filename, data, PICTURES, MAX_PIC_BYTES, operation_id)


def upload_file(org_id: str, *, filename: str, data: bytes, operation_id: str) -> dict:
    return _store(org_id, "file", filename, data, PACKAGES, MAX_INLINE_FILE_BYTES, operation_id)


def presign_file(org_id: str, *, filename: str, size: int, operation_id: str) -> dict:
    """A presigned POST for a package too large to pass through the API (no effect until
    the client posts the file; the key is fixed by the operation id)."""
    extension = _extension(filename, PACKAGES)
    if not 0 < size <= MAX_FILE_BYTES:
        raise InvalidParameter("file_size", f"File size must be 1 byte to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    content_type = PACKAGES[extension][0]
    key = _key(org_id, "file", operation_id, extension)
    post = aws.client("s3").generate_presigned_post(
        settings.uploads_bucket(), key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
        ExpiresIn=POST_SECONDS)
    return {"key": key, "file_name": filename, "size": size, "content_type": content_type,
            "upload_url": post["url"], "upload_fields": post["fields"], "expires_in": POST_SECONDS,
            "url": _url(key)}
