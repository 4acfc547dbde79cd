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

from campaigns.admin.estimate import estimate, estimated_cost_text, human_duration
from campaigns.models import Account, Channel
from campaigns.selectors_reports import preview_contacts, recipient_count, recipients_lacking
from campaigns.services.links import preview_text
from campaigns.services.personalise import (
    has_variables,
    recipient_context,
    render,
    template_problems,
    variables_without_default,
)
from campaigns.sms_text.encoding import EncodingError, analyse

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
    track_links: bool = False,
) -> dict[str, Any]:
    """The preview as JSON-ready data; see the builder's JavaScript for how it is shown."""
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
    samples, forcing, segment_counts = [], {}, []
    for phone, text in texts:
        try:
            analysis = analyse(text)
        except EncodingError as exc:
            problems.append(str(exc))
            continue
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
