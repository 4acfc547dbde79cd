"""The live figures' rollup: MessageStatusDelta, kept by statement-level triggers on messages.

PostgreSQL only (SQLite, the demo's database, counts the messages directly: a demo
campaign is small). Each INSERT, UPDATE or DELETE statement on campaigns_message appends,
per (campaign, status) it changed, the net change in messages and segments, computed from
the statement's transition tables: a bulk update of a thousand messages adds a few rows.
Existing messages are counted into it once, here, in the same transaction as the triggers.
"""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION campaigns_message_status_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO campaigns_messagestatusdelta (campaign_id, status, messages, segments)
    SELECT campaign_id, status, COUNT(*), COALESCE(SUM(segments), 0) FROM new_rows GROUP BY 1, 2;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO campaigns_messagestatusdelta (campaign_id, status, messages, segments)
    SELECT campaign_id, status, -COUNT(*), -COALESCE(SUM(segments), 0) FROM old_rows GROUP BY 1, 2;
  ELSE
    INSERT INTO campaigns_messagestatusdelta (campaign_id, status, messages, segments)
    SELECT campaign_id, status, SUM(n), SUM(s) FROM (
      SELECT campaign_id, status, 1 AS n, segments::bigint AS s FROM new_rows
      UNION ALL SELECT campaign_id, status, -1, -segments::bigint FROM old_rows
    ) AS d GROUP BY 1, 2 HAVING SUM(n) <> 0 OR SUM(s) <> 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER campaigns_message_delta_ins AFTER INSERT ON campaigns_message
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_message_status_delta();
CREATE TRIGGER campaigns_message_delta_upd AFTER UPDATE ON campaigns_message
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION campaigns_message_status_delta();
CREATE TRIGGER campaigns_message_delta_del AFTER DELETE ON campaigns_message
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_message_status_delta();
INSERT INTO campaigns_messagestatusdelta (campaign_id, status, messages, segments)
  SELECT campaign_id, status, COUNT(*), COALESCE(SUM(segments), 0) FROM campaigns_message GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER IF EXISTS campaigns_message_delta_ins ON campaigns_message;
DROP TRIGGER IF EXISTS campaigns_message_delta_upd ON campaigns_message;
DROP TRIGGER IF EXISTS campaigns_message_delta_del ON campaigns_message;
DROP FUNCTION IF EXISTS campaigns_message_status_delta();
"""


def triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_hash_api_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="MessageStatusDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("campaign_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=12)),
                ("messages", models.IntegerField()),
                ("segments", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["campaign_id"], name="status_delta_campaign_idx")],
            },
        ),
        migrations.RunPython(triggers, drop_triggers),
    ]
