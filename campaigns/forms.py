"""Admin forms. Secrets are write-only: typed in, never rendered back."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.models import Account, Contact, OptOut
from campaigns.services.phones import InvalidPhoneNumber, normalise_phone


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
