"""The product's URLs plus the benchmark's reference admin at /bench-admin/ (bench/admin_reference.py)."""

from django.urls import path

from bench.admin_reference import site
from rmdesk.config.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("bench-admin/", site.urls), *product_urlpatterns]
