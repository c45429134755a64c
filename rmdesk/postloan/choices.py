"""Choices of collection work."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Text or WeChat message")
    LETTER = "letter", _("Collection letter")


class PromiseStatus(models.TextChoices):
    """A promise to pay 承诺还款: open until its date, then kept or broken by what was repaid."""

    NONE = "none", _("No promise")
    OPEN = "open", _("Promised")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
