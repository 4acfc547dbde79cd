"""A route: destination prefixes mapped to provider accounts, with weights or prices.

A campaign sends through one account, or through a route. With a route, each message is
given its account when the tick claims it (``campaigns.services.routing``): the entries of
the longest prefix its number starts with (``""`` is the default), among the accounts that
can send now; then by weight (``weighted``) or the cheapest (``least_cost``). The account
is recorded on the message, and why it moved, if it did, in ``Message.route_note``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models


class RouteStrategy(models.TextChoices):
    WEIGHTED = "weighted", "Weighted (spread by weight)"
    LEAST_COST = "least_cost", "Least cost (cheapest account that can send)"


PREFIX = RegexValidator(r"^(\+[0-9]{1,15})?$", "A prefix is '+' and digits (E.164, e.g. +44 or +447), or blank.")


class Route(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="A name you recognise, e.g. 'UK split'.")
    strategy = models.CharField(
        max_length=10, choices=RouteStrategy.choices, default=RouteStrategy.WEIGHTED, help_text="How to choose."
    )
    active = models.BooleanField(default=True, help_text="Inactive routes cannot be chosen for new campaigns.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RouteEntry(models.Model):
    """One account for one prefix of a route; ``position`` orders the failover."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="entries")
    prefix = models.CharField(
        max_length=16,
        blank=True,
        validators=[PREFIX],
        help_text="Numbers starting with this (E.164, e.g. +44 or +447); blank: every other number.",
    )
    account = models.ForeignKey("campaigns.Account", on_delete=models.PROTECT, related_name="route_entries")
    weight = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text="Share of the prefix's traffic (weighted routes): 70 and 30 split 70/30.",
    )
    price = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Price of one segment through this account (least cost); empty: the account's price table.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order within the prefix: failover goes down.")

    class Meta:
        ordering = ["route", "prefix", "position", "id"]
        verbose_name = "route entry"
        verbose_name_plural = "route entries"
        constraints = [
            models.UniqueConstraint(
                fields=["route", "prefix", "account"],
                name="route_entry_unique_account_per_prefix",
                violation_error_message="This account is already in the route for this prefix.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix or 'default'} → {self.account_id} ({self.weight})"
