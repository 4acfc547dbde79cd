"""The claim's index in id order (campaigns/models/messages.py): the new one is built before
the old one goes, so the claim always has an index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0026_click_link_without_constraint"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["campaign", "status", "id"], name="message_campaign_status_id_idx"),
        ),
        migrations.RemoveIndex(
            model_name="message",
            name="message_campaign_status_idx",
        ),
    ]
