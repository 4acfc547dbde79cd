"""What a segment costs: a price per SMS segment (per MMS message) for each account,
optionally per destination country.

A row with a blank ``country`` is the account's default price; a row with a country (ISO
3166 alpha-2, e.g. ``GB``) overrides it for numbers of that country. One currency per
account, so the figures of a campaign add up (``campaigns.selectors_cost``).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

ISO_COUNTRY = RegexValidator(r"^[A-Z]{2}$", "A two-letter country code in capitals, e.g. GB.")
ISO_CURRENCY = RegexValidator(r"^[A-Z]{3}$", "A three-letter currency code in capitals, e.g. EUR.")


class SegmentPrice(models.Model):
    account = models.ForeignKey("campaigns.Account", on_delete=models.CASCADE, related_name="segment_prices")
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[ISO_COUNTRY],
        help_text="Destination country (ISO code, e.g. GB). Blank: the price for every other country.",
    )
    price = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Price of one SMS segment (one MMS message), as the provider bills it.",
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[ISO_CURRENCY], help_text="ISO currency code, e.g. EUR, GBP, USD."
    )

    class Meta:
        ordering = ["account", "country"]
        verbose_name = "segment price"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "country"],
                name="segment_price_unique_account_country",
                violation_error_message="This account already has a price for this country.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country or 'default'}: {self.price} {self.currency}"

    def clean(self) -> None:
        """One currency per account: prices in two currencies cannot be added up."""
        super().clean()
        if self.account_id is None:
            return
        other = (
            SegmentPrice.objects.filter(account_id=self.account_id)
            .exclude(pk=self.pk)
            .exclude(currency=self.currency)
            .values_list("currency", flat=True)
            .first()
        )
        if other:
            raise ValidationError({"currency": f"This account's other prices are in {other}: use one currency."})
