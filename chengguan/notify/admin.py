from django.contrib import admin

from chengguan.notify.models import Notification, Reminder


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created", "recipient", "kind", "subject", "case", "read_at"]
    list_filter = ["kind", "read_at"]
    search_fields = ["subject", "text", "recipient__username", "case__code"]
    raw_id_fields = ["recipient", "case"]
    date_hierarchy = "created"


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "case", "kind", "step", "deadline", "delivered_at"]
    list_filter = ["kind", "step"]
    raw_id_fields = ["case"]
