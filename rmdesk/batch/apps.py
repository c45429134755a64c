from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchConfig(AppConfig):
    name = "rmdesk.batch"
    label = "batch"
    verbose_name = _("End-of-day batch")
