"""Identity verification (KYC): levels 1, 2 and 3, applications, uploads, and the review.

* level 1: basic information (country, names, ID card type and number);
* level 2: ID document images (front, back, holding the card), after level 1 passed;
* level 3: advanced (a face photo and a proof of address), after level 2 passed.

A user has at most one application waiting; the review (Admin API) `approve`s or
`reject`s it. Approval raises the user's `kyc_level` (`services.users.set_kyc_level`).
Images go straight to S3 (`settings.uploads_bucket()`) with presigned POST forms that fix
the key (under `kyc/<org_id>/<uid>/`), the content type and a size limit; an application
names the uploaded keys and each is checked to exist.

Events: org stream `org.userUpdateKYCInfo` on each application and
`org.userUpdateKYCResult` on each review; notices KYC_VERIFY_SUCCESS / KYC_VERIFY_REJECTED.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from botocore.exceptions import ClientError

from chalicelib import settings
from chalicelib.domain.errors import (
    InvalidParameter,
    KycAlreadyPending,
    KycLevelNotAllowed,
    KycNotReviewable,
    MissingParameter,
    NotFound,
    UploadNotFound,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.domain.ids import new_id
from chalicelib.gateways import aws, kms
from chalicelib.services import account_security, users
from chalicelib.store import kyc as store
from chalicelib.store.kyc import NONE, PASSED, PENDING, REJECTED, Application
from chalicelib.store.transaction import Transaction

CARD_TYPES = {1: "ID card", 2: "driving licence", 3: "passport", 5: "other"}  # BHOP card_type
DOCUMENTS = {2: ("card_front", "card_back", "card_hand"), 3: ("face", "address_proof")}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
PROOF_TYPES = IMAGE_TYPES + ("application/pdf",)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_SECONDS = 600
VIEW_SECONDS = 300
STATUS_NAMES = {NONE: "NONE", PENDING: "PENDING", PASSED: "PASSED", REJECTED: "REJECTED"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _masked(number: str) -> str:
    return number[:2] + "*" * max(0, len(number) - 4) + number[-2:] if len(number) > 4 else "*" * len(number)


def _context(org_id: str, uid: str) -> dict:
    return {"purpose": "kyc-card-no", "org": org_id, "uid": uid}


def _prefix(org_id: str, uid: str) -> str:
    return f"kyc/{org_id}/{uid}/"


def _commit(application: Application, expected_version: int, event_type: str, payload: dict) -> Application:
    tx = Transaction()
    store.stage_save(tx, application, expected_version)
    tx.emit(Event(org_stream(application.org_id), event_type, {"uid": application.uid, **payload},
                  application.org_id, application.uid))
    tx.commit()
    return application


def _next(org_id: str, uid: str, level: int) -> tuple[users.User, Optional[Application]]:
    user = users.get_user(org_id, uid)
    current = store.get(uid)
    if current is not None and current.status == PENDING:
        raise KycAlreadyPending()
    if user.kyc_level != level - 1:
        raise KycLevelNotAllowed(f"Level {level} needs level {level - 1} passed first"
                                 if user.kyc_level < level - 1 else f"Level {level} is already passed")
    return user, current


# --- the user's side ---------------------------------------------------------------------------------

def submit_basic(org_id: str, uid: str, *, country_code: Optional[str], first_name: Optional[str],
                 last_name: Optional[str], card_type, card_no: Optional[str]) -> dict:
    """Level 1: basic information, waiting for review."""
    country = (country_code or "").strip().upper()
    if not _COUNTRY.match(country):
        raise InvalidParameter("country_code", "Country must be an ISO 3166 alpha-2 code")
    names = {}
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        value = (value or "").strip()
        if not value:
            raise MissingParameter(name)
        if len(value) > 64:
            raise InvalidParameter(name)
        names[name] = value
    try:
        kind = int(card_type)
    except (TypeError, ValueError):
        raise InvalidParameter("card_type", "Card type must be 1, 2, 3 or 5") from None
    if kind not in CARD_TYPES:
        raise InvalidParameter("card_type", "Card type must be 1, 2, 3 or 5")
    number = re.sub(r"\s", "", card_no or "")
    if not 4 <= len(number) <= 40 or not number.isalnum():
        raise InvalidParameter("card_no")
    _, current = _next(org_id, uid, 1)
    basic = {"country_code": country, **names, "card_type": kind, "card_no_masked": _masked(number)}
    application = Application(uid, org_id, 1, PENDING, basic, kms.encrypt(number, _context(org_id, uid)), {},
                              submitted_at=store.now_ms(), version=(current.version if current else 0) + 1)
    _commit(application, current.version if current else 0, "org.userUpdateKYCInfo", {"level": 1})
    return view(application, users.get_user(org_id, uid).kyc_level)


def upload_form(org_id: str, uid: str, kind: Optional[str], content_type: Optional[str]) -> dict:
    """A presigned POST form for one document image (fields to send with the file)."""
    allowed = {k for level in DOCUMENTS.values() for k in level}
    if kind not in allowed:
        raise InvalidParameter("type", f"Document type must be one of {', '.join(sorted(allowed))}")
    content_type = (content_type or "image/jpeg").strip().lower()
    if content_type not in (PROOF_TYPES if kind == "address_proof" else IMAGE_TYPES):
        raise InvalidParameter("content_type", "This file type is not accepted")
    users.get_user(org_id, uid)
    key = f"{_prefix(org_id, uid)}{new_id()}-{kind}"
    form = aws.client("s3").generate_presigned_post(
        settings.uploads_bucket(), key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_SECONDS)
    return {"url": form["url"], "fields": form["fields"], "key": key, "type": kind, "expires_in": UPLOAD_SECONDS,
            "max_bytes": MAX_UPLOAD_BYTES}


def submit_documents(org_id: str, uid: str, level: int, documents: dict) -> dict:
    """Level 2 or 3: the keys of uploaded images, one per required document type."""
    if level not in DOCUMENTS:
        raise InvalidParameter("level", "Documents are submitted for level 2 or 3")
    chosen = {}
    for kind in DOCUMENTS[level]:
        key = (documents or {}).get(kind)
        if not key:
            raise MissingParameter(kind)
        if not isinstance(key, str) or not key.startswith(_prefix(org_id, uid)) or ".." in key:
            raise UploadNotFound(kind)
        try:
            aws.client("s3").head_object(Bucket=settings.uploads_bucket(), Key=key)
        except ClientError:
            raise UploadNotFound(kind) from None
        chosen[kind] = key
    _, current = _next(org_id, uid, level)
    application = Application(uid, org_id, level, PENDING, current.basic if current else {},
                              current.card_no_ciphertext if current else None, chosen,
                              submitted_at=store.now_ms(), version=(current.version if current else 0) + 1)
    _commit(application, current.version if current else 0, "org.userUpdateKYCInfo", {"level": level})
    return view(application, users.get_user(org_id, uid).kyc_level)


def view(application: Optional[Application], kyc_level: int) -> dict:
    """What the user sees: the level passed and the latest application's state."""
    if application is None:
        return {"kyc_level": kyc_level, "level": None, "status": NONE, "status_name": STATUS_NAMES[NONE],
                "reason": None, "submitted_at": None, "reviewed_at": None, "basic": None}
    return {"kyc_level": kyc_level, "level": application.level, "status": application.status,
            "status_name": STATUS_NAMES[application.status], "reason": application.reason,
            "submitted_at": application.submitted_at, "reviewed_at": application.reviewed_at,
            "basic": application.basic or None, "documents": sorted(application.documents)}


def status(org_id: str, uid: str) -> dict:
    user = users.get_user(org_id, uid)
    return view(store.get(uid), user.kyc_level)


def levels() -> list[dict]:
    return [{"level": 1, "name": "basic", "requires": ["country_code", "first_name", "last_name", "card_type",
                                                       "card_no"]},
            {"level": 2, "name": "documents", "requires": list(DOCUMENTS[2])},
            {"level": 3, "name": "advanced", "requires": list(DOCUMENTS[3])}]


# --- the review (Admin API) ---------------------------------------------------------------------------

def pending_applications(org_id: str, *, limit: int = 100) -> list[dict]:
    """Applications waiting for review, oldest first."""
    return [{"uid": a.uid, **view(a, users.get_user(org_id, a.uid).kyc_level)}
            for a in store.pending(org_id, limit=max(1, min(int(limit), 500)))]


def application(org_id: str, uid: str, *, with_card_no: bool = False) -> dict:
    """One user's latest application for a reviewer, with short-lived links to its images."""
    user = users.get_user(org_id, uid)
    current = store.get(uid)
    if current is None or current.org_id != org_id:
        raise NotFound("No verification request")
    answer = {"uid": uid, **view(current, user.kyc_level), "review_by": current.reviewed_by,
              "images": {kind: aws.client("s3").generate_presigned_url(
                  "get_object", Params={"Bucket": settings.uploads_bucket(), "Key": key}, ExpiresIn=VIEW_SECONDS)
                  for kind, key in current.documents.items()}}
    if with_card_no and current.card_no_ciphertext:
        answer["card_no"] = kms.decrypt(current.card_no_ciphertext, _context(org_id, uid))
    return answer


def _review(org_id: str, uid: str, admin_id: str, outcome: int,
            reason: Optional[str]) -> tuple[users.User, Application]:
    if not admin_id:
        raise MissingParameter("admin_id")
    current = store.get(uid)
    if current is None or current.org_id != org_id:
        raise NotFound("No verification request")
    if current.status == outcome and current.reviewed_by == str(admin_id):
        return users.get_user(org_id, uid), current  # a repeated decision changes nothing
    if current.status != PENDING:
        raise KycNotReviewable()
    decided = replace(current, status=outcome, reviewed_by=str(admin_id), reviewed_at=store.now_ms(),
                      reason=(reason or None) and reason[:500], version=current.version + 1)
    _commit(decided, current.version, "org.userUpdateKYCResult",
            {"level": decided.level, "status": outcome, "reason": decided.reason})
    return users.get_user(org_id, uid), decided


def approve(org_id: str, uid: str, admin_id: str, level: Optional[int] = None) -> dict:
    """Passes the waiting application and raises the user's level to it, or to a lower
    `level` the reviewer grants instead (idempotent)."""
    current = store.get(uid)
    if level is not None and (current is None or not 1 <= int(level) <= current.level):
        raise KycLevelNotAllowed("Approve at a level from 1 to the level applied for")
    user, decided = _review(org_id, uid, admin_id, PASSED, None)
    granted = decided.level if level is None else int(level)
    if user.kyc_level < granted:
        user = users.set_kyc_level(org_id, uid, granted)
    account_security.notify(user, "KYC_VERIFY_SUCCESS", "Identity verified",
                            f"Your identity verification (level {granted}) has passed.")
    return view(decided, user.kyc_level)


def reject(org_id: str, uid: str, admin_id: str, reason: Optional[str] = None) -> dict:
    user, decided = _review(org_id, uid, admin_id, REJECTED, reason or "rejected")
    account_security.notify(user, "KYC_VERIFY_REJECTED", "Identity verification rejected",
                            f"Your identity verification (level {decided.level}) was rejected: {decided.reason}")
    return view(decided, user.kyc_level)
