from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rmdesk.core"
    label = "core"

    def ready(self) -> None:
        from rmdesk.core import lookups  # noqa: F401  (registers pk__any_of)
