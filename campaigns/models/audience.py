"""Who receives campaigns: recipient lists, their contacts, and opt-outs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class RecipientList(models.Model):
    name = models.CharField(max_length=200, help_text="A name for this list, e.g. 'Newsletter subscribers'.")
    description = models.TextField(blank=True, help_text="What this list is for (optional).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """One phone number on one list, stored in E.164 form (+447700900123)."""

    recipient_list = models.ForeignKey(
        RecipientList,
        on_delete=models.CASCADE,
        related_name="contacts",
        help_text="The list this contact is on.",
    )
    phone = models.CharField(max_length=16, help_text="Mobile number in international format, e.g. +447700900123.")
    first_name = models.CharField(max_length=100, blank=True, help_text="Used as {{ first_name }} in messages.")
    last_name = models.CharField(max_length=100, blank=True, help_text="Used as {{ last_name }} in messages.")
    attributes = models.JSONField(
        default=dict, blank=True, help_text='Extra fields for personalisation, e.g. {"city": "Leeds"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient_list", "phone"], name="contact_unique_phone_per_list")
        ]

    def __str__(self) -> str:
        return self.phone


class OptOutSource(models.TextChoices):
    KEYWORD = "keyword", "Keyword reply (e.g. STOP)"
    MANUAL = "manual", "Added by hand"
    API = "api", "API"
    IMPORT = "import", "Imported"


class OptOut(models.Model):
    """A number that must not receive campaigns: from one account, or from all (global)."""

    phone = models.CharField(max_length=16, help_text="Number in international format, e.g. +447700900123.")
    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="opt_outs",
        help_text="Only for this account; leave empty to block the number on every account.",
    )
    source = models.CharField(
        max_length=10,
        choices=OptOutSource.choices,
        default=OptOutSource.MANUAL,
        help_text="How it was added.",
    )
    note = models.CharField(max_length=255, blank=True, help_text="Why, if known.")
    source_message = models.ForeignKey(
        "campaigns.InboundMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The reply that caused it, for keyword opt-outs.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=Q(account__isnull=True), name="optout_unique_global_phone"
            ),
            models.UniqueConstraint(
                fields=["phone", "account"],
                condition=Q(account__isnull=False),
                name="optout_unique_account_phone",
            ),
        ]
        indexes = [models.Index(fields=["phone"], name="optout_phone_idx")]

    def __str__(self) -> str:
        scope = self.account.system_id if self.account_id else "all accounts"
        return f"{self.phone} ({scope})"
