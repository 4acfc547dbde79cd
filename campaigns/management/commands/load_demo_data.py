"""Load the demo: an admin user, a simulator account, a list and a campaign.

Idempotent: running it again (every ``make run``) changes nothing that exists.
"""

from __future__ import annotations

import os
import struct
import zlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.utils import timezone

from campaigns.models import Account, Campaign, CampaignStatus, Channel, Contact, RecipientList
from campaigns.services.mms import add_media

DEMO_SYSTEM_ID = "demo"
DEMO_CONTACTS = 1000
DEMO_MMS_CONTACTS = 50
#: the demo account's own login to the MM4 receiver: the simulator delivers its reports with it.
DEMO_MM4_INBOUND_USER = "demo-mmsc"


class Command(BaseCommand):
    help = "Create demo data for `make run` (admin user, simulator account, list, campaign)."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        User = get_user_model()
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(username=username, email="", password=password)
        account, _ = Account.objects.get_or_create(
            system_id=DEMO_SYSTEM_ID,
            defaults={
                "name": "Demo (built-in simulator)",
                "smpp_password": os.environ.get("DEMO_SMPP_PASSWORD", "demopass"),
                "smpp_host": "127.0.0.1",
                "smpp_port": int(os.environ.get("SMSC_SIMULATOR_PORT", "2775")),
                "binds": 2,
                "source_addr": "DemoShop",
                "source_addr_ton": 5,
                "source_addr_npi": 0,
                "mm4_host": "127.0.0.1",
                "mm4_port": int(os.environ.get("MM4_SIMULATOR_PORT", "2525")),
                "mm4_tls": False,
                "mm4_api_key": os.environ.get("DEMO_MM4_API_KEY", "demo-key"),
                "mm4_originator_domain": "mms.demo.example",
            },
        )
        if not account.mm4_inbound_username:  # also for a demo database made before the receiver asked
            # The simulator logs in to the MM4 receiver with this (the Procfile gives it the same).
            account.mm4_inbound_username = DEMO_MM4_INBOUND_USER
            account.mm4_inbound_password = os.environ.get("DEMO_MM4_INBOUND_PASSWORD", "demo-inbound-pass")
            account.save(update_fields=["mm4_inbound_username", "mm4_inbound_password", "updated_at"])
        demo_list, created = RecipientList.objects.get_or_create(
            name="Demo customers", defaults={"description": "1,000 fictional UK mobile numbers."}
        )
        if created:
            Contact.objects.bulk_create(
                Contact(
                    recipient_list=demo_list,
                    phone=f"+4479111{i:05d}",
                    first_name=("Alex", "Sam", "Jo", "Chris", "")[i % 5],
                    attributes={"city": ("Leeds", "Bristol", "York")[i % 3]},
                )
                for i in range(DEMO_CONTACTS)
            )
        if not Campaign.objects.filter(name="Demo SMS campaign").exists():
            campaign = Campaign.objects.create(
                name="Demo SMS campaign",
                account=account,
                body='Hi {{ first_name|default:"there" }}, our {{ city }} store has a sale this weekend!',
                status=CampaignStatus.SCHEDULED,
                scheduled_at=timezone.now() + timedelta(seconds=15),
            )
            campaign.recipient_lists.add(demo_list)
        if not Campaign.objects.filter(name="Demo MMS campaign").exists():
            self._mms_campaign(account)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Admin: http://127.0.0.1:8000/admin/  user: {username}  password: {password}"
            )
        )

    def _mms_campaign(self, account: Account) -> None:
        """An MMS campaign to 50 of the demo numbers (10 s at the account's 5 MMS/s), with a picture."""
        mms_list, created = RecipientList.objects.get_or_create(
            name="Demo MMS customers", defaults={"description": "50 fictional UK mobile numbers for the MMS demo."}
        )
        if created:
            Contact.objects.bulk_create(
                Contact(recipient_list=mms_list, phone=f"+4479111{i:05d}", first_name=("Alex", "Sam", "Jo")[i % 3])
                for i in range(DEMO_MMS_CONTACTS)
            )
        campaign = Campaign.objects.create(
            name="Demo MMS campaign",
            account=account,
            channel=Channel.MMS,
            sender="+447700900100",
            mms_subject="Spring sale",
            body="Hi {{ first_name }}, this weekend only: 20% off in store.",
        )
        campaign.recipient_lists.add(mms_list)
        add_media(campaign=campaign, file=ContentFile(_demo_png(), name="spring-sale.png"))
        Campaign.objects.filter(id=campaign.id).update(
            status=CampaignStatus.SCHEDULED, scheduled_at=timezone.now() + timedelta(seconds=20)
        )


def _demo_png(size: int = 96) -> bytes:
    """A small gradient picture, made here so the demo ships no binary file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // size, y * 255 // size, 160)) for x in range(size)) for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
