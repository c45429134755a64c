from django.contrib import admin
from django.urls import include, path

from rmdesk.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    # --- API (owned by the API engineer) ---
    path("api/v1/", api.urls),
    # --- Web UI ---
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("rmdesk.customers.urls")),
    path("tasks/", include("rmdesk.tasks.urls")),
    path("development/", include("rmdesk.development.urls")),
    path("visits/", include("rmdesk.visits.urls")),
    path("loans/", include("rmdesk.postloan.urls")),
    path("", include("rmdesk.web.urls")),
]
