"""The builder's live preview: what the first recipients will receive, and what it costs.

Called on every pause in typing, so it reads little: the first 200 contacts of the chosen
lists (five are shown; all 200 give the average segments of a personalised text) and one
count. The encoding and segment counts come from ``campaigns.sms_text.encoding.analyse``, the
same function the bind workers split messages with, so the preview cannot disagree with
what is sent.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils import timezone

from campaigns.admin.estimate import estimate, estimated_cost_text, human_duration, parse_local_time
from campaigns.admin.media_files import preview_media
from campaigns.models import Account, Channel
from campaigns.selectors_reports import preview_contacts, recipient_count, recipients_lacking
from campaigns.services.frequency_cap import capped_in_preview, exempt_from_cap
from campaigns.services.links import preview_text
from campaigns.services.personalise import (
    has_variables,
    recipient_context,
    render,
    template_problems,
    variables_without_default,
)
from campaigns.sms_text.encoding import EncodingError
from campaigns.sms_text.smart_encoding import SmartEncoding, explain

SHOWN = 5
SAMPLED = 200


def _char_info(char: str) -> dict[str, str]:
    shown = {"\n": "↵", "\t": "⇥", "\u00a0": "⍽"}.get(char, char)
    return {"char": shown, "code": f"U+{ord(char):04X}"}


def build_preview(
    *,
    body: str,
    channel: str,
    account: Account | None,
    list_ids: list[int],
    send_rate: int | None,
    quiet_hours: tuple[time | None, time | None] = (None, None),
    smart_encoding: bool = True,
    frequency_capped: bool = True,
    track_links: bool = False,
) -> dict[str, Any]:
    """The preview as JSON-ready data; see the builder's JavaScript for how it is shown.

    With ``smart_encoding`` (SMS) each text is shown and counted as it will be sent
    (``campaigns.sms_text.smart_encoding``), and ``smart_encoding`` in the answer says what
    was replaced and the segments saved; without it, what it would do. ``frequency_cap``
    says how many recipients the cap would suppress if it started now (``frequency_capped``
    False: the campaign is exempt, a resend to failed recipients)."""
    problems = template_problems(body)
    contacts = preview_contacts(list_ids, limit=SAMPLED if has_variables(body) else SHOWN)
    texts = [
        (
            c.phone,
            render(body, recipient_context(first_name=c.first_name, last_name=c.last_name, attributes=c.attributes)),
        )
        for c in contacts
    ] or [("", render(body, {}))]
    if track_links:  # what is sent and counted: each link shortened (a placeholder code)
        texts = [(phone, preview_text(text)) for phone, text in texts]
    samples, forcing, segment_counts, smart = [], {}, [], []
    smart_on = smart_encoding and channel != Channel.MMS
    for phone, written in texts:
        try:
            result = explain(written)
        except EncodingError as exc:
            problems.append(str(exc))
            continue
        smart.append(result)
        text, analysis = (result.text, result.after) if smart_on else (written, result.before)
        segment_counts.append(analysis.segments)
        for char in analysis.ucs2_chars:
            forcing.setdefault(char, _char_info(char))
        if len(samples) < SHOWN:
            samples.append(
                {
                    "phone": phone,
                    "text": text,
                    "encoding": analysis.encoding,
                    "segments": analysis.segments,
                    "units": analysis.units,
                    "per_segment": analysis.per_segment,
                }
            )
    recipients = recipient_count(list_ids)
    is_mms = channel == Channel.MMS
    per_message = 1.0 if is_mms else (sum(segment_counts) / len(segment_counts) if segment_counts else 1.0)
    total_segments = round(per_message * recipients)
    capacity = (account.mms_rate if is_mms else account.capacity_per_s) if account else 0
    pace = estimate(
        total_segments=total_segments, account=account, channel=channel, send_rate=send_rate, quiet_hours=quiet_hours
    )
    seconds = pace.seconds if pace else None
    return {
        "channel": channel,
        "encoding": "UCS-2" if forcing else "GSM-7",
        "ucs2_chars": list(forcing.values()),
        "segments": samples[0]["segments"] if samples else 0,
        "samples": samples,
        "recipients": recipients,
        "total_segments": total_segments,
        "total_is_estimate": has_variables(body) and recipients > len(segment_counts),
        "capacity_per_s": capacity,
        "estimated_seconds": round(seconds) if seconds is not None else None,
        "estimated_duration": human_duration(seconds) if seconds is not None else "choose an account",
        "pace_per_s": round(pace.pace_per_s, 2) if pace else None,
        "limited_by": pace.limited_by if pace else "",
        "estimated_cost": estimated_cost_text(account=account, list_ids=list_ids, per_message=per_message),
        "problems": problems,
        "variable_warnings": variable_warnings(body, list_ids),
        "smart_encoding": None if channel == Channel.MMS else smart_summary(smart, enabled=smart_on),
        "frequency_cap": frequency_cap_summary(account, list_ids) if frequency_capped else None,
    }


def frequency_cap_summary(account: Account | None, list_ids: list[int]) -> dict[str, Any] | None:
    """The rule and how many of the recipients it would suppress now (None: no rule)."""
    cap, capped = capped_in_preview(account=account, list_ids=list_ids, now=timezone.now())
    if cap is None:
        return None
    rule = cap.reason.removeprefix("frequency cap: ")
    scope = "this account's campaigns" if cap.account_id else "all campaigns"
    who = "recipient" if capped == 1 else "recipients"
    days = "day" if cap.days == 1 else f"{cap.days} days"
    got = f"already got {cap.messages} message{'' if cap.messages == 1 else 's'} in the last {days} from {scope}"
    message = f"{capped:,} {who} {got}: they will be skipped." if capped else "no recipient is at the cap."
    return {"rule": rule, "capped": capped, "message": message}


def smart_summary(results: list[SmartEncoding], *, enabled: bool) -> dict[str, Any]:
    """What smart encoding replaces in the sampled texts and what it saves, as the builder
    says it ("3 → 1 segment per message", the first sample's figures; ``saved_total`` over
    every sample). When it is off the same figures say what it would do."""
    replaced: dict[str, dict[str, Any]] = {}  # count: in the first sampled message that has it
    for result in results:
        for char, to, count in result.replaced:
            replaced.setdefault(char, {**_char_info(char), "to": to or "(removed)", "count": count})
    first = results[0] if results else None
    before, after = (first.before.segments, first.after.segments) if first else (0, 0)
    change = f"{before} → {after} segment{'' if after == 1 else 's'} per message"
    if not replaced or first is None:
        message = ""
    elif not first.applied:
        message = f"Smart encoding leaves the text as written: {first.why_not}."
    elif enabled:
        message = f"Smart encoding: {change}."
    else:
        message = f"Smart encoding is off; on, it would give {change}."
    return {
        "enabled": enabled,
        "applied": bool(enabled and first and first.applied),
        "replaced": list(replaced.values()),
        "segments_before": before,
        "segments_after": after,
        "saved_total": sum(r.segments_saved for r in results),
        "message": message,
    }


# --- Variables some recipients lack -------------------------------------------------------


def variable_warnings(body: str, list_ids: list[int]) -> list[dict[str, Any]]:
    """Every variable used without a ``default`` that some recipients have no value for.

    Such a tag renders empty for them (``Hi {{ first_name }},`` becomes ``Hi ,``), which the
    five samples rarely show; the counts cover every recipient, from one aggregate query.
    """
    names = variables_without_default(body)
    lacking = recipients_lacking(list_ids, names) if names else {}
    if not any(lacking.values()):
        return []
    total = recipient_count(list_ids)
    warnings = []
    for name in names:
        missing = lacking.get(name, 0)
        if not missing:
            continue
        fix = f'give a fallback: {{{{ {name}|default:"…" }}}}'
        if missing >= total:
            text = f"No recipient has a value for {name}: {{{{ {name} }}}} will be empty for all {total:,} ({fix})."
        else:
            has = "has" if missing == 1 else "have"
            text = f"{missing:,} of {total:,} recipients {has} no {name}: {{{{ {name} }}}} will be empty for them"
            text += f" ({fix})."
        warnings.append({"variable": name, "missing": missing, "recipients": total, "message": text})
    return warnings


def preview_of_form(data: Any) -> dict[str, Any]:
    """The builder's preview of the form as it stands (a QueryDict or a JSON object): what
    the builder's page posts on every keystroke, read leniently (a half-typed form is normal)."""
    get_list = getattr(data, "getlist", None)
    raw_lists = get_list("recipient_lists") if get_list else data.get("recipient_lists") or []
    list_ids = [int(v) for v in raw_lists if str(v).isdigit()]
    account_id = str(data.get("account") or "")
    account = Account.objects.filter(pk=account_id).first() if account_id.isdigit() else None
    rate = str(data.get("send_rate") or "")
    quiet = (parse_local_time(data.get("quiet_hours_start")), parse_local_time(data.get("quiet_hours_end")))
    preview = build_preview(
        body=str(data.get("body") or ""),
        channel=str(data.get("channel") or "sms"),
        account=account,
        list_ids=list_ids,
        send_rate=int(rate) if rate.isdigit() else None,
        quiet_hours=quiet,
        smart_encoding=str(data.get("smart_encoding", "1")).lower() not in ("", "0", "false", "off"),
        frequency_capped=not exempt_from_cap(str(data.get("campaign") or "")),
        track_links=str(data.get("track_links") or "").lower() in {"on", "true", "1"},
    )
    preview["media"] = preview_media(str(data.get("campaign") or ""), preview["channel"])
    return preview
