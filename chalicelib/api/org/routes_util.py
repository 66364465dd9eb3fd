"""3.7 Uploads: pictures and app packages, as `multipart/form-data` with the file in the
`file` field (signed as the hex SHA-256 of its bytes), or, for packages too large to pass
through the API, a presigned POST (`file_name` and `file_size` without a file)."""
from __future__ import annotations

from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import uploads


def _file(request: OrgRequest) -> tuple[str, bytes]:
    found = request.files.get("file")
    if found is None:
        raise MissingParameter("file", "Send the file as the multipart field 'file'")
    return found


@endpoint(["/pic/upload"], level=ASSET)
def org_pic_upload(request: OrgRequest):
    name, data = _file(request)
    return uploads.upload_pic(request.org_id, filename=name, data=data, operation_id=request.operation_id())


@endpoint(["/file/upload"], level=ASSET)
def org_file_upload(request: OrgRequest):
    if "file" not in request.files and request.get("file_size") is not None:
        return uploads.presign_file(request.org_id, filename=request.require("file_name"),
                                    size=request.integer("file_size"), operation_id=request.operation_id())
    name, data = _file(request)
    return uploads.upload_file(request.org_id, filename=name, data=data, operation_id=request.operation_id())
