from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rmdesk.core"
    label = "core"
