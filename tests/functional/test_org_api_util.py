"""3.7 Upload paths: pictures and packages to the uploads bucket, with type and size limits."""
from __future__ import annotations

import hashlib

from chalicelib import settings
from chalicelib.gateways import aws
from chalicelib.services import uploads
from tests.functional.test_org_api_support import body, http, org_a, org_b, seeded  # noqa: F401  (fixtures)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
APK = b"PK\x03\x04" + b"\x14\x00" * 500


def stored(key):
    return aws.client("s3").get_object(Bucket=settings.uploads_bucket(), Key=key)


def test_pic_upload_stores_a_picture_once_per_operation_id(org_a):
    answer = body(org_a.asset.upload("/pic/upload", {"client_order_id": "pic-1"}, "logo.png", PNG))
    assert answer["content_type"] == "image/png" and answer["size"] == len(PNG)
    assert answer["key"].startswith("org/7002/pic/") and answer["key"].endswith(".png")
    assert answer["sha256"] == hashlib.sha256(PNG).hexdigest() and answer["url"].startswith("http")
    obj = stored(answer["key"])
    assert obj["Body"].read() == PNG and obj["ContentType"] == "image/png"
    again = body(org_a.asset.upload("/pic/upload", {"client_order_id": "pic-1"}, "logo.png", PNG))
    assert again["key"] == answer["key"]
    other = org_a.asset.upload("/pic/upload", {"client_order_id": "pic-1"}, "logo.png", PNG + b"x")
    assert other.status_code == 400 and body(other)["code"] == 6001


def test_pic_upload_refuses_content_that_is_not_a_picture_and_oversized_files(org_a):
    fake = org_a.asset.upload("/pic/upload", {"client_order_id": "pic-2"}, "logo.png", b"<script>alert(1)</script>")
    assert fake.status_code == 400 and body(fake)["code"] == 2021
    wrong_name = org_a.asset.upload("/pic/upload", {"client_order_id": "pic-3"}, "logo.svg", PNG)
    assert wrong_name.status_code == 400 and body(wrong_name)["code"] == 2021
    big = org_a.asset.upload("/pic/upload", {"client_order_id": "pic-4"}, "big.png",
                             PNG + b"\x00" * uploads.MAX_PIC_BYTES)
    assert big.status_code == 413
    listed = aws.client("s3").list_objects_v2(Bucket=settings.uploads_bucket(), Prefix="org/7002/")
    assert listed.get("KeyCount", 0) == 0


def test_the_signature_covers_the_file_bytes(org_a):
    tampered = org_a.asset.upload("/pic/upload", {"client_order_id": "pic-5"}, "logo.png", PNG, sign_data=PNG[:-1])
    assert (tampered.status_code, body(tampered)["code"]) == (401, 1002)


def test_file_upload_takes_a_package_or_gives_a_presigned_post_for_a_large_one(org_a):
    answer = body(org_a.asset.upload("/file/upload", {"client_order_id": "apk-1"}, "app-release.apk", APK))
    assert answer["key"].startswith("org/7002/file/") and stored(answer["key"])["Body"].read() == APK
    not_zip = org_a.asset.upload("/file/upload", {"client_order_id": "apk-2"}, "app.apk", PNG)
    assert not_zip.status_code == 400
    exe = org_a.asset.upload("/file/upload", {"client_order_id": "apk-3"}, "setup.exe", APK)
    assert exe.status_code == 400
    post = org_a.asset.ok("/file/upload", {"file_name": "app.ipa", "file_size": 50 * 1024 * 1024,
                                           "client_order_id": "ipa-1"})
    assert post["key"].endswith(".ipa") and post["upload_fields"]["key"] == post["key"]
    assert post["upload_url"] and post["expires_in"] == uploads.POST_SECONDS
    huge = org_a.asset.post("/file/upload", {"file_name": "app.ipa", "file_size": 10 ** 10, "client_order_id": "ipa-2"})
    assert huge.status_code == 400
