"""A provider account: the SMPP binds and the MM4 endpoint we send through."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from campaigns.fields import EncryptedTextField


class BindMode(models.TextChoices):
    TRANSCEIVER = "trx", "Transceiver (send and receive on each bind)"
    TRANSMITTER_RECEIVER = "tx_rx", "Transmitter + receiver (separate binds)"


class MessageIdFormat(models.TextChoices):
    AUTO = "auto", "Auto (as received, case and leading zeros normalised)"
    HEX = "hex", "Hexadecimal"
    DECIMAL = "decimal", "Decimal"


class Account(models.Model):
    """One provider account (an SMPP system_id), used by SMS and MMS campaigns alike.

    Secrets (the SMPP password, the MM4 API key and the MM4 inbound password) are stored because the workers need
    them, but they are write-only everywhere a person can look: the admin and the API
    never render them back, and ``__repr__`` leaves them out so they never reach a log.
    In the database they are encrypted (``EncryptedTextField``, keys from SECRETS_KEYS).
    """

    name = models.CharField(max_length=100, unique=True, help_text="A name you recognise, e.g. 'Localmail UK'.")
    system_id = models.CharField(
        max_length=15,
        unique=True,
        help_text="The SMPP username your provider gave you (system_id). Also the MM4 login.",
    )
    smpp_password = EncryptedTextField(
        max_length=8,
        blank=True,
        help_text="The SMPP password (at most 8 characters in SMPP 3.4). Write-only: never shown again.",
    )
    system_type = models.CharField(max_length=13, blank=True, help_text="Only if your provider asks for one.")
    smpp_host = models.CharField(
        verbose_name="SMPP host", max_length=255, default="127.0.0.1", help_text="Provider SMPP host name."
    )
    smpp_port = models.PositiveIntegerField(
        verbose_name="SMPP port",
        default=2775,
        help_text="SMPP port: usually 2775 plain, 3550 for TLS (your provider may differ).",
    )
    smpp_tls = models.BooleanField(
        verbose_name="SMPP TLS", default=False, help_text="Encrypt the SMPP connection with TLS (recommended)."
    )
    smpp_tls_ca_file = models.CharField(
        verbose_name="SMPP TLS CA file",
        max_length=500,
        blank=True,
        help_text="Path of a CA bundle to verify the provider with; blank = system CAs.",
    )
    bind_mode = models.CharField(
        max_length=8,
        choices=BindMode.choices,
        default=BindMode.TRANSCEIVER,
        help_text=("Transceiver binds send and receive receipts; or use separate transmitter and receiver binds."),
    )
    binds = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
        help_text="How many simultaneous binds (connections) your provider allows for this account.",
    )
    rate_per_bind = models.PositiveIntegerField(
        default=50,
        validators=[MaxValueValidator(10000)],
        help_text="Maximum messages (SMS segments) per second on each bind, as agreed with the provider.",
    )
    window = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="How many messages may await the provider's answer at once on one bind.",
    )
    source_addr = models.CharField(
        max_length=21, blank=True, help_text="Default sender (number or alphanumeric name) for campaigns."
    )
    source_addr_ton = models.PositiveSmallIntegerField(
        default=1, help_text="Type of number of the sender: 1 international, 5 alphanumeric, 3 short code."
    )
    source_addr_npi = models.PositiveSmallIntegerField(
        default=1, help_text="Numbering plan of the sender: 1 E.164 (ISDN), 0 unknown (alphanumeric)."
    )
    message_id_format = models.CharField(
        max_length=8,
        choices=MessageIdFormat.choices,
        default=MessageIdFormat.AUTO,
        help_text="How this provider writes message ids, so receipts match the messages they belong to.",
    )
    enquire_link_interval = models.PositiveIntegerField(
        default=30, help_text="Seconds between keep-alive checks (enquire_link) on an idle bind."
    )
    mm4_host = models.CharField(
        verbose_name="MM4 host", max_length=255, blank=True, help_text="Provider MM4 (SMTP) host for MMS."
    )
    mm4_port = models.PositiveIntegerField(
        verbose_name="MM4 port", default=2465, help_text="MM4 port: 2465 implicit TLS, 2525 plain."
    )
    mm4_tls = models.BooleanField(
        verbose_name="MM4 TLS", default=True, help_text="Use implicit TLS for MM4 (recommended)."
    )
    mm4_api_key = EncryptedTextField(
        max_length=128,
        blank=True,
        help_text="The MM4 API key (SMTP password). Write-only: never shown again.",
    )
    mm4_originator_domain = models.CharField(
        verbose_name="MM4 originator domain",
        max_length=255,
        blank=True,
        help_text="Domain of your MMS addresses, e.g. mms.example.com.",
    )
    mm4_inbound_username = models.CharField(
        max_length=64,
        blank=True,
        help_text=(
            "The SMTP AUTH user your provider's MMSC logs in with to deliver this account's MMS reports "
            "to our MM4 receiver. Blank = only the receiver-wide MM4_RECEIVER_AUTH credentials."
        ),
    )
    mm4_inbound_password = EncryptedTextField(
        max_length=128,
        blank=True,
        help_text="The SMTP AUTH password for the user above. Write-only: never shown again.",
    )
    mms_rate = models.PositiveIntegerField(
        verbose_name="MMS rate", default=5, help_text="Maximum MMS per second for this account."
    )
    frequency_cap = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Optional: a recipient gets at most this many marketing messages from this account's campaigns in "
            "the days below; the excess are suppressed when a campaign starts. Empty: the platform-wide rule "
            "(FREQUENCY_CAP), if any."
        ),
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="The frequency cap's window in days (e.g. 7).",
    )
    active = models.BooleanField(default=True, help_text="Inactive accounts send nothing and hold no binds.")
    smpp_stopped_reason = models.CharField(
        verbose_name="SMPP stopped reason",
        max_length=255,
        blank=True,
        help_text="Why SMPP sending stopped (e.g. the provider refused the password). Clear it to retry.",
    )
    mm4_stopped_reason = models.CharField(
        verbose_name="MM4 stopped reason",
        max_length=255,
        blank=True,
        help_text="Why MMS sending stopped. Clear it to retry.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("smpp_password", "mm4_api_key", "mm4_inbound_password")

    class Meta:
        ordering = ["name"]
        constraints = [
            # A login names exactly one account: the receiver files its reports by it.
            models.UniqueConstraint(
                fields=["mm4_inbound_username"],
                condition=~models.Q(mm4_inbound_username=""),
                name="account_unique_mm4_inbound_username",
                violation_error_message="Another account already uses this MM4 inbound user.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.system_id})"

    def __repr__(self) -> str:
        return f"<Account {self.pk}: {self.system_id}>"

    def clean(self) -> None:
        if (self.frequency_cap is None) != (self.frequency_cap_days is None):
            raise ValidationError("Give both the frequency cap and its window in days, or neither.")

    @property
    def capacity_per_s(self) -> int:
        """Segments per second the account's binds can send together."""
        return self.binds * self.rate_per_bind
