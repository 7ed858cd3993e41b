from django.db import migrations, models
from django.db.models import F


def existing_were_delivered(apps, schema_editor):
    # Reminders from before receipts were handed to the queue when they were made: they are
    # not sent again after the upgrade.
    Reminder = apps.get_model("notify", "Reminder")
    Reminder.objects.filter(delivered_at__isnull=True).update(delivered_at=F("sent_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0002_event_notice"),
    ]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="发出时间"),
        ),
        migrations.RunPython(existing_were_delivered, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("delivered_at__isnull", True)),
                fields=["sent_at"],
                name="notify_reminder_undelivered",
            ),
        ),
    ]
