"""Admin forms. Secrets are write-only: typed in, never rendered back."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings

from campaigns.countries import country_choices
from campaigns.errors import ApplicationError
from campaigns.models import Account, Campaign, CampaignMedia, Channel, Contact, OptOut, Route
from campaigns.services import mms
from campaigns.services.contacts_import import attribute_key
from campaigns.services.media_formats import stored_name
from campaigns.services.phones import InvalidPhoneNumber, normalise_phone
from campaigns.services.routes import home_account


class SecretField(forms.CharField):
    """A password-style input that never shows the stored value; blank keeps it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs["widget"] = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        super().__init__(**kwargs)


class AccountForm(forms.ModelForm):
    smpp_password = SecretField(
        label="SMPP password", help_text="Write-only. Leave blank to keep the current password."
    )
    mm4_api_key = SecretField(label="MM4 API key", help_text="Write-only. Leave blank to keep the current key.")
    clear_mm4_api_key = forms.BooleanField(required=False, label="Remove the MM4 API key")
    mm4_inbound_password = SecretField(
        label="MM4 inbound password", help_text="Write-only. Leave blank to keep the current password."
    )
    clear_mm4_inbound_password = forms.BooleanField(required=False, label="Remove the MM4 inbound password")

    class Meta:
        model = Account
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Never let the stored secret reach the rendered form, even as an initial value.
        for name in Account.SECRET_FIELDS:
            self.initial.pop(name, None)
            is_set = bool(self.instance.pk and getattr(self.instance, name))
            self.fields[name].help_text += " (currently set)" if is_set else " (currently not set)"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in Account.SECRET_FIELDS:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(Account.objects.get(pk=self.instance.pk), name)
        if data.get("clear_mm4_api_key"):
            data["mm4_api_key"] = ""
        if data.get("clear_mm4_inbound_password"):
            data["mm4_inbound_password"] = ""
        return data


class PhoneCleaningMixin:
    """Normalise the phone field to E.164 and report a bad number against the field."""

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])  # type: ignore[attr-defined]
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class ContactForm(PhoneCleaningMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = "__all__"


class OptOutForm(PhoneCleaningMixin, forms.ModelForm):
    class Meta:
        model = OptOut
        fields = "__all__"


# --- Campaign builder ---------------------------------------------------------------------

_EDITABLE_TIMEZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_KEEPS_ITS_TIME = ("scheduled", "paused")  # a paused campaign that never started resumes as scheduled


class CampaignForm(forms.ModelForm):
    """The builder's form: recipient lists as checkboxes, and the schedule as a local time in
    the campaign's own time zone (a marketer in London schedules "09:00 Europe/London", not a
    UTC instant)."""

    scheduled_local = forms.DateTimeField(
        required=False,
        label="Send at",
        input_formats=[_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL_FORMAT),
        help_text="Local time in the time zone below. “Save and schedule” saves it and arms the campaign.",
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=[(z, z) for z in _EDITABLE_TIMEZONES],
        initial="UTC",
        help_text="Time zone of “Send at”, and for quiet hours when a number's own zone is unclear.",
    )

    class Meta:
        model = Campaign
        fields = (
            "name",
            "channel",
            "account",
            "route",
            "sender",
            "body",
            "smart_encoding",
            "track_links",
            "mms_subject",
            "recipient_lists",
            "timezone",
            "send_rate",
            "quiet_hours_start",
            "quiet_hours_end",
            "validity_period",
        )
        widgets = {
            "recipient_lists": forms.CheckboxSelectMultiple,
            "body": forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "true"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance: Campaign = self.instance
        if "track_links" in self.fields:  # where the short links point (docs/links.md)
            self.fields["track_links"].help_text += (
                f" Short links look like {settings.LINK_DOMAIN}/r/Ab3dE6gH: the operator points LINK_DOMAIN "
                "at this web app (docs/links.md)."
            )
        if "account" in self.fields and "route" in self.fields:  # a route names the account itself
            self.fields["account"].required = False
            self.fields["route"].queryset = Route.objects.filter(active=True)
        if instance.pk and instance.status != "draft" and "scheduled_local" in self.fields:
            self.fields["scheduled_local"].help_text = "Local time in the time zone below. Saving moves the start here."
        if instance.scheduled_at and instance.timezone in _EDITABLE_TIMEZONES:
            local = instance.scheduled_at.astimezone(zoneinfo.ZoneInfo(instance.timezone))
            self.initial["scheduled_local"] = local.replace(tzinfo=None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._account_or_route(data)
        local = data.get("scheduled_local")
        zone = data.get("timezone") or "UTC"
        if "scheduled_local" in self.fields and local is None and not self.has_error("scheduled_local"):
            if "_schedule" in self.data:
                self.add_error(
                    "scheduled_local",
                    "Choose when to send: scheduling needs a date and time (read in the time zone beside it).",
                )
            elif self.instance.pk and self.instance.status in _KEEPS_ITS_TIME and not self.instance.started_at:
                self.add_error(
                    "scheduled_local",
                    "Keep a time: this campaign waits for it to start sending. To stop it, pause or cancel it instead.",
                )
        if local is not None:
            naive = local.replace(tzinfo=None)
            aware = naive.replace(tzinfo=zoneinfo.ZoneInfo(zone))
            round_trip = aware.astimezone(datetime.UTC).astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
            if round_trip != naive:
                message = f"{naive:%H:%M} does not exist on that day in {zone} (the clocks change)."
                self.add_error("scheduled_local", message)
            data["scheduled_at"] = aware
        else:
            data["scheduled_at"] = None
        return data

    def _account_or_route(self, data: dict[str, Any]) -> None:
        """With a route, the campaign's account is the route's home account (the route then
        chooses each message's); without one, an account is needed."""
        if "route" not in self.fields or "account" not in self.fields:
            return
        if data.get("route") is not None:
            try:
                data["account"] = home_account(data["route"])
            except ApplicationError as exc:
                self.add_error("route", exc.message)
        elif data.get("account") is None and not self.has_error("account"):
            self.add_error("account", "Choose an account, or a route to spread the messages over several.")

    def save(self, commit: bool = True) -> Campaign:
        if "scheduled_local" in self.fields:  # not on a started campaign's page: its start is history
            self.instance.scheduled_at = self.cleaned_data.get("scheduled_at")
        return super().save(commit=commit)


class CampaignMediaForm(forms.ModelForm):
    """One media file in the builder: checked by its bytes like every upload path; its type
    and size are read from the file (never typed in), and it is stored under the proven
    type's extension."""

    class Meta:
        model = CampaignMedia
        fields = ("file", "position")

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload and "file" in self.changed_data:
            declared = getattr(upload, "content_type", "") or ""
            try:
                content_type, size = mms.inspect_upload(file=upload, name=upload.name, declared_type=declared)
            except ApplicationError as error:
                raise forms.ValidationError(error.message, code=error.code) from error
            upload.name = stored_name(upload.name, content_type)
            self.instance.content_type, self.instance.size = content_type, size
        return upload


class CampaignMediaFormSet(forms.BaseInlineFormSet):
    """The campaign's media as a whole: only an MMS carries any, all of it within the limit."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if not kept:
            return
        try:
            if self.instance.channel != Channel.MMS:
                raise ApplicationError("Only MMS campaigns carry media.", field="media", code="not_mms")
            mms.check_media_total(campaign=self.instance, media_bytes=sum(f.instance.size for f in kept))
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code=error.code) from error


class TestSendForm(forms.Form):
    phones = forms.CharField(
        label="Test numbers",
        max_length=2000,
        help_text="Up to 20 numbers in international form, separated by commas or spaces.",
    )

    contact = forms.IntegerField(
        required=False, min_value=1, label="As", help_text="Whose data fills the template; empty: the first recipient."
    )

    def clean_phones(self) -> list[str]:
        return [p for p in re.split(r"[,;\s]+", self.cleaned_data["phones"]) if p]


# --- Imports ------------------------------------------------------------------------------


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
        help_text="A header row, then one contact per row. Any encoding Excel writes; up to 200 MB.",
    )


def _variable(column: str) -> str:
    """The attribute name of a column; first_name / last_name stay the contact's own fields."""
    key = attribute_key(column)
    return f"column_{key}" if key in ("first_name", "last_name") else key


class ImportMappingForm(forms.Form):
    """Which column is the phone, the names, and which become personalisation attributes."""

    phone = forms.ChoiceField(label="Phone number column")
    first_name = forms.ChoiceField(label="First name column", required=False)
    last_name = forms.ChoiceField(label="Last name column", required=False)
    attributes = forms.MultipleChoiceField(
        label="Extra columns to keep",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Kept as attributes; use them in messages as {{ variable }} (the name shown).",
    )
    region = forms.ChoiceField(
        label="Country of national numbers",
        required=False,
        help_text="Numbers written without +country code are read as numbers of this country.",
    )

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [(c, c) for c in header if c]
        self.fields["phone"].choices = columns
        self.fields["first_name"].choices = [("", "— none —"), *columns]
        self.fields["last_name"].choices = [("", "— none —"), *columns]
        self.fields["attributes"].choices = [(c, f"{c} → {{{{ {_variable(c)} }}}}") for c in header if c]
        # By name, not bare ISO codes; the site's PHONE_DEFAULT_REGION chosen unless the form says otherwise.
        self.fields["region"].choices = list(country_choices())
        self.fields["region"].initial = self.initial.get("region") or settings.PHONE_DEFAULT_REGION

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        used = {data["phone"], data.get("first_name"), data.get("last_name")}
        return {
            "phone": data["phone"],
            "first_name": data.get("first_name") or None,
            "last_name": data.get("last_name") or None,
            "attributes": {_variable(c): c for c in data.get("attributes") or [] if c not in used},
            "region": data.get("region") or None,
        }


class OptOutImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="A column named phone (or mobile, msisdn), or numbers only.")
    account = forms.ModelChoiceField(
        queryset=Account.objects.all(),
        required=False,
        empty_label="All accounts",
        help_text="Block the numbers on this account only; leave empty to block them everywhere.",
    )
    note = forms.CharField(required=False, max_length=255, help_text="Why, e.g. “CRM unsubscribes 2026-03”.")
