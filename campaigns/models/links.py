"""Tracked short links: a campaign's links, one short code per message and link, clicks.

A campaign with ``track_links`` has every http(s) URL of each message replaced by
``LINK_DOMAIN/r/<code>`` (campaigns/services/links.py). The code is the only thing the
recipient sees, so it carries no campaign or message number: the redirect view looks it
up (one indexed SELECT), records the click (one INSERT) and answers 302.
"""

from __future__ import annotations

from django.db import models

CODE_LENGTH = 8  # base62: 62**8 ≈ 2**47.6 codes, drawn with `secrets`


class TrackedLink(models.Model):
    """One original URL of a campaign (a personalised URL gives one row per distinct URL)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="tracked_links")
    url = models.TextField(help_text="The original URL the short links redirect to.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "url"], name="trackedlink_unique_url")]

    def __str__(self) -> str:
        return self.url


class ShortCode(models.Model):
    """The code one message carries for one link: who clicked is the message, not a cookie."""

    code = models.CharField(max_length=16, unique=True, help_text="Case-sensitive base62.")
    message = models.ForeignKey("campaigns.Message", on_delete=models.CASCADE, related_name="+", db_index=False)
    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="codes", db_index=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the code answers 404.")

    class Meta:
        constraints = [
            # Also the claim's lookup of a message's existing codes (a retried message keeps them).
            models.UniqueConstraint(fields=["message", "link"], name="shortcode_unique_message_link"),
        ]
        indexes = [models.Index(fields=["link"], name="shortcode_link_idx")]

    def __str__(self) -> str:
        return self.code


class UserAgentClass(models.TextChoices):
    BOT = "bot", "Bot"
    MOBILE = "mobile", "Mobile"
    DESKTOP = "desktop", "Desktop"
    OTHER = "other", "Other"


class Click(models.Model):
    """One request for a short code. The raw user agent is not kept, only its class; the
    address only when ``LINK_CLICK_STORE_IP`` is on."""

    # Denormalised from the code for the report's indexes. No constraint on any of the three
    # (the ORM's cascade from the link still removes clicks with their campaign): a foreign
    # key check locks the referenced row FOR KEY SHARE, and a campaign's concurrent clicks
    # all reference the same link row, which PostgreSQL then tracks as multixacts.
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    message = models.ForeignKey(
        "campaigns.Message", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    link = models.ForeignKey(
        TrackedLink, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    clicked_at = models.DateTimeField()
    agent = models.CharField(max_length=8, choices=UserAgentClass.choices, default=UserAgentClass.OTHER)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            # The report's aggregates: per campaign over time, per link, distinct messages.
            models.Index(fields=["campaign", "clicked_at"], name="click_campaign_time_idx"),
            models.Index(fields=["link", "message"], name="click_link_message_idx"),
        ]

    def __str__(self) -> str:
        return f"click on link {self.link_id}"
