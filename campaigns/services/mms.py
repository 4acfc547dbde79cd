"""MMS campaigns: media checked at upload, content handed to the MM4 sender, a preview.

Media are checked when they are uploaded, not when the campaign is sent: a marketer learns
that a BMP or a 2 MB video cannot go out while still at the form, with the file named and
the limit stated, instead of finding a campaign of failed messages later. The type comes
from the bytes, the whole container is checked where that is cheap, and the stored file
is named from the proven type (``media_formats``), never from the upload's extension.

The size limit (``MMS_MAX_BYTES``, default 600 KB) counts what the marketer controls: the
media files, the text and the subject, in bytes. Transfer encoding (base64 adds a third)
is the provider's concern; 600 KB is the common MMSC class for exactly this count.

Also here: the MM4 side of an account for the transport (:func:`mm4_account_settings`,
:func:`stop_account_mm4`, :func:`mm4_account_for_domain`), re-exported by ``transport_api``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Max

from campaigns.errors import ApplicationError
from campaigns.models import Account, Campaign, CampaignMedia, Channel
from campaigns.services.media_formats import container_problem, sniff_content_type, stored_name

#: MIME type → what a marketer calls it (for error messages).
ALLOWED_MEDIA_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "audio/amr": "AMR audio",
    "audio/mpeg": "MP3 audio",
    "video/mp4": "MP4 video",
    "video/3gpp": "3GP video",
}
_BY_EXTENSION = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".amr": "audio/amr",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".3gp": "video/3gpp",
}


def max_bytes() -> int:
    """The MMS size limit in bytes: ``MMS_MAX_BYTES`` (config/settings.py; 600 KB)."""
    return settings.MMS_MAX_BYTES


def _kb(n: int) -> str:
    return f"{n / 1024:.1f}".removesuffix(".0") + " KB" if n >= 1024 else f"{n} bytes"


def _sizes(total: int, limit: int) -> tuple[str, str]:
    """Both sizes in KB, or in bytes when KB would show them equal (600 KB vs 600 KB)."""
    if _kb(total) == _kb(limit):
        return f"{total:,} bytes", f"{limit:,} bytes"
    return _kb(total), _kb(limit)


def media_type_for(*, name: str, data_head: bytes, declared: str = "") -> str:
    """The allowed type of an uploaded file, or ApplicationError naming the file and why."""
    declared = (declared or "").split(";", 1)[0].strip().lower()
    sniffed = sniff_content_type(data_head)
    guessed = _BY_EXTENSION.get(PurePath(name).suffix.lower())
    content_type = sniffed or declared or guessed or ""
    allowed = ", ".join(ALLOWED_MEDIA_TYPES.values())
    if content_type not in ALLOWED_MEDIA_TYPES:
        what = f"is {content_type}" if content_type else "is of a type we cannot recognise"
        raise ApplicationError(f'"{name}" {what}; an MMS can carry: {allowed}.', field="media", code="media_type")
    if not sniffed and data_head:
        raise ApplicationError(
            f'"{name}" does not look like a {ALLOWED_MEDIA_TYPES[content_type]}: its content does not match.',
            field="media",
            code="media_type",
        )
    return content_type


def text_bytes(campaign: Campaign) -> int:
    """Bytes of the text and subject (UTF-8), as they count against the limit."""
    return len((campaign.body or "").encode("utf-8")) + len((campaign.mms_subject or "").encode("utf-8"))


def validate_media_upload(*, campaign: Campaign, name: str, size: int, exclude_id: int | None = None) -> None:
    """Refuse a file that would take the MMS over the size limit (the type is checked apart)."""
    others = CampaignMedia.objects.filter(campaign=campaign)
    if exclude_id is not None:
        others = others.exclude(id=exclude_id)
    current = sum(others.values_list("size", flat=True)) + text_bytes(campaign)
    limit = max_bytes()
    if current + size > limit:
        total, allowed = _sizes(current + size, limit)
        raise ApplicationError(
            f'"{name}" ({_kb(size)}) would make this MMS {total} including the text; the limit is {allowed}.',
            field="media",
            code="media_too_large",
        )


def inspect_upload(*, file: File, name: str, declared_type: str = "") -> tuple[str, int]:
    """(content type, size) of one file, from its bytes, its container checked where cheap;
    ApplicationError naming the file if an MMS cannot carry it. A file over the size limit
    on its own is left to the size check (its bytes need not be read)."""
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    content_type = media_type_for(name=name, data_head=head, declared=declared_type)
    size = file.size if file.size is not None else len(file.read())
    file.seek(0)
    if size <= max_bytes():
        problem = container_problem(content_type, file.read())
        file.seek(0)
        if problem:
            what = ALLOWED_MEDIA_TYPES[content_type]
            raise ApplicationError(f'"{name}" is not a whole {what}: {problem}.', field="media", code="media_type")
    return content_type, size


def check_media_total(*, campaign: Campaign, media_bytes: int) -> None:
    """Refuse media of ``media_bytes`` in all (several files at once) over the MMS size limit."""
    total, limit = media_bytes + text_bytes(campaign), max_bytes()
    if total > limit:
        shown, allowed = _sizes(total, limit)
        raise ApplicationError(
            f"This MMS would be {shown} including the text; the limit is {allowed}.",
            field="media",
            code="media_too_large",
        )


def check_upload(
    *, campaign: Campaign, file: File, name: str = "", declared_type: str = "", exclude_id: int | None = None
) -> tuple[str, int]:
    """(content type, size) of an upload an MMS can carry, or ApplicationError saying why not.

    One check for every upload path (the API's ``add_media``; the admin's media form uses
    :func:`inspect_upload` and :func:`check_media_total` for a whole form of files), so they
    all refuse the same files with the same words; ``exclude_id`` when a file is replaced.
    """
    name = name or PurePath(file.name or "media").name
    if campaign.channel != Channel.MMS:
        raise ApplicationError("Only MMS campaigns carry media.", field="media", code="not_mms")
    content_type, size = inspect_upload(file=file, name=name, declared_type=declared_type)
    validate_media_upload(campaign=campaign, name=name, size=size, exclude_id=exclude_id)
    return content_type, size


def add_media(*, campaign: Campaign, file: File, name: str = "", declared_type: str = "") -> CampaignMedia:
    """Check and attach one media file to an MMS campaign, after the ones it already has.

    Stored as ``<upload's stem>.<extension of the proven type>``: evil.html with PNG bytes is
    kept as evil.png, so nothing serves it as a page.
    """
    name = name or PurePath(file.name or "media").name
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(id=campaign.id).first()  # serialise uploads
        content_type, size = check_upload(campaign=campaign, file=file, name=name, declared_type=declared_type)
        position = (CampaignMedia.objects.filter(campaign=campaign).aggregate(m=Max("position"))["m"] or 0) + 1
        media = CampaignMedia(campaign=campaign, content_type=content_type, size=size, position=position)
        media.file.save(stored_name(name, content_type), file, save=False)
        media.save()
    return media


def validate_mms_for_sending(campaign: Campaign) -> None:
    """An MMS campaign can start: something to send, within the limit, an account with MM4.

    A stopped account (refused login) does not block starting: its messages wait, and go
    out once an operator fixes the key and clears the reason.
    """
    if not campaign.body.strip() and not campaign.media.exists():
        raise ApplicationError("An MMS needs a text or at least one media file.", field="body")
    preview = mms_preview(campaign=campaign)
    if not preview.within_limit:
        total, allowed = _sizes(preview.total_bytes, preview.limit_bytes)
        raise ApplicationError(f"This MMS is {total} including the text; the limit is {allowed}.", field="media")
    if not campaign.account.mm4_host:
        raise ApplicationError("The account has no MM4 host for MMS.", field="account")


# -- content for the sender ---------------------------------------------------------------------


@dataclass(frozen=True)
class MediaFile:
    name: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class MmsContent:
    """What every message of a campaign shares: the subject and the media, in order.

    The text is per message (personalised) and travels with each part as ``body``.
    """

    subject: str
    media: tuple[MediaFile, ...]


def mms_content(*, campaign_id: int) -> MmsContent:
    """The campaign's subject and media files read from storage, for the MM4 sender."""
    campaign = Campaign.objects.get(id=campaign_id)
    media = []
    for item in CampaignMedia.objects.filter(campaign_id=campaign_id).order_by("position", "id"):
        with item.file.open("rb") as fh:
            media.append(MediaFile(PurePath(item.file.name).name, item.content_type, fh.read()))
    return MmsContent(subject=campaign.mms_subject, media=tuple(media))


# -- preview ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewPart:
    kind: str  # "subject", "text", "image", "audio", "video"
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MmsPreview:
    parts: tuple[PreviewPart, ...]
    total_bytes: int
    limit_bytes: int

    @property
    def within_limit(self) -> bool:
        return self.total_bytes <= self.limit_bytes


def mms_preview(*, campaign: Campaign) -> MmsPreview:
    """The parts a recipient gets, in order (subject, media, text), with sizes and the total."""
    parts = []
    if campaign.mms_subject:
        parts.append(PreviewPart("subject", "Subject", "text/plain", len(campaign.mms_subject.encode("utf-8"))))
    for item in campaign.media.order_by("position", "id"):
        kind = item.content_type.split("/", 1)[0]
        parts.append(PreviewPart(kind, PurePath(item.file.name).name, item.content_type, item.size))
    if campaign.body:
        parts.append(PreviewPart("text", "Text", "text/plain", len(campaign.body.encode("utf-8"))))
    return MmsPreview(parts=tuple(parts), total_bytes=sum(p.size for p in parts), limit_bytes=max_bytes())


# -- the account's MM4 side, for the transport -----------------------------------------------------


@dataclass(frozen=True)
class MM4AccountSettings:
    """What the MM4 sender needs about an account; ``api_key`` is secret and never in ``repr``."""

    id: int
    system_id: str
    api_key: str = field(repr=False)
    host: str
    port: int
    tls: bool
    tls_ca_file: str
    originator_domain: str
    mms_rate: int
    active: bool
    stopped_reason: str


def mm4_account_settings(*, system_id: str) -> MM4AccountSettings:
    """The account's MM4 settings. The CA bundle is ``MM4_TLS_CA_FILE`` when set, else the
    account's SMPP one (one provider, one CA), else the system's."""
    a = Account.objects.get(system_id=system_id)
    return MM4AccountSettings(
        id=a.id,
        system_id=a.system_id,
        api_key=a.mm4_api_key,
        host=a.mm4_host,
        port=a.mm4_port,
        tls=a.mm4_tls,
        tls_ca_file=settings.MM4_TLS_CA_FILE or a.smpp_tls_ca_file,
        originator_domain=a.mm4_originator_domain or a.mm4_host,
        mms_rate=a.mms_rate,
        active=a.active,
        stopped_reason=a.mm4_stopped_reason,
    )


def stop_account_mm4(*, system_id: str, reason: str) -> None:
    """Record why the account's MMS sending stopped (login refused): the tick stops handing it
    MMS batches and the admin shows the reason; clearing it resumes sending."""
    Account.objects.filter(system_id=system_id).update(mm4_stopped_reason=reason[:255])


def mm4_account_for_domain(*, domain: str) -> int | None:
    """The one account whose MM4 originator domain is ``domain`` (case-insensitive), else None."""
    ids = list(Account.objects.filter(mm4_originator_domain__iexact=domain.strip()).values_list("id", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None
