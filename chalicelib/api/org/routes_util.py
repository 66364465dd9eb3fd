"""3.7 Uploads: pictures and app packages, as `multipart/form-data` with the file in the
`file` field (signed as the hex SHA-256 of its bytes), or, for packages too large to pass
through the API, a presigned POST (`file_name` and `file_size` without a file)."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.org.http import ASSET, MULTIPART, OrgRequest, endpoint
from chalicelib.api.org.params import Integer, Uplink
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import uploads


class PicUpload(Uplink):
    file: bytes = Field(description="the picture")


class FileUpload(Uplink):
    """The file itself, or `file_name` and `file_size` for a presigned POST."""

    file: Optional[bytes] = None
    file_name: Optional[str] = None
    file_size: Optional[Integer] = Field(None, description="bytes; with `file_name` and no `file`")


def _file(request: OrgRequest) -> tuple[str, bytes]:
    found = request.files.get("file")
    if found is None:
        raise MissingParameter("file", "Send the file as the multipart field 'file'")
    return found


@endpoint(["/pic/upload"], level=ASSET, params=PicUpload, media=(MULTIPART,), summary="Upload a picture")
def org_pic_upload(request: OrgRequest):
    name, data = _file(request)
    return uploads.upload_pic(request.org_id, filename=name, data=data, operation_id=request.operation_id())


@endpoint(["/file/upload"], level=ASSET, params=FileUpload, media=(MULTIPART,),
          summary="Upload an app package, or get a presigned POST for one")
def org_file_upload(request: OrgRequest):
    if "file" not in request.files and request.get("file_size") is not None:
        return uploads.presign_file(request.org_id, filename=request.require("file_name"),
                                    size=request.integer("file_size"), operation_id=request.operation_id())
    name, data = _file(request)
    return uploads.upload_file(request.org_id, filename=name, data=data, operation_id=request.operation_id())
