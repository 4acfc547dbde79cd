"""Print every bind's health, for people and scripts; exit 1 if an active account has no bound bind."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from campaigns.services import transport_api
from smpp_transport.models import BindStatus


class Command(BaseCommand):
    help = "Show each bind's state, SMSC, last error and counters (from the binds' heartbeats)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--check", action="store_true", help="exit 1 if an active account has no healthy bind")

    def handle(self, *args, **options) -> None:
        rows = list(BindStatus.objects.all())
        for row in rows:
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "name": row.name,
                            "system_id": row.system_id,
                            "mode": row.mode,
                            "health": row.health,
                            "smsc": row.smsc,
                            "last_error": row.last_error,
                            "updated_at": row.updated_at.isoformat(),
                            "stats": row.stats,
                        }
                    )
                )
            else:
                s = row.stats
                self.stdout.write(
                    f"{row.name:<45} {row.health:<12} {row.smsc:<22} submits={s.get('submits', 0)} "
                    f"throttles={s.get('throttles', 0)} reconnects={s.get('reconnects', 0)} "
                    f"window={s.get('window_in_use', 0)} {row.last_error}"
                )
        if not rows and not options["json"]:
            self.stdout.write("no bind has reported yet")
        if options["check"]:
            healthy = {r.system_id for r in rows if r.health == "bound"}
            missing = transport_api.accounts_without(system_ids=healthy)
            if missing:
                raise CommandError(f"no healthy bind for: {', '.join(missing)}")
