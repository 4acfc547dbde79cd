"""Segment prices: an editable table per account (operators), read-only for marketers.

Shown inline on the account's page and as a table of their own, where prices are edited
in place. The country is picked by name; blank is the account's default price.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from campaigns.admin.base import GuardedModelAdmin
from campaigns.countries import country_choices, country_name
from campaigns.models import SegmentPrice


class SegmentPriceForm(forms.ModelForm):
    country = forms.ChoiceField(
        choices=lambda: (("", "Every other country (default price)"), *country_choices()),  # names load on use
        required=False,
        help_text="Destination country; blank is the price for every country without its own.",
    )

    class Meta:
        model = SegmentPrice
        fields = ("account", "country", "price", "currency")


class SegmentPriceInline(admin.TabularInline):
    model = SegmentPrice
    form = SegmentPriceForm
    fields = ("country", "price", "currency")
    extra = 0
    verbose_name_plural = "Prices per SMS segment (per MMS message)"


@admin.register(SegmentPrice)
class SegmentPriceAdmin(GuardedModelAdmin):
    form = SegmentPriceForm
    list_display = ("account", "country_label", "price", "currency")
    list_display_links = ("account",)
    list_editable = ("price", "currency")
    list_filter = ("account", "currency")
    list_select_related = ("account",)

    @admin.display(description="Country", ordering="country")
    def country_label(self, obj: SegmentPrice) -> str:
        return f"{country_name(obj.country)} ({obj.country})" if obj.country else "Default (every other country)"
