"""rmdesk's settings with the benchmark's reference admin mounted beside the product (bench/urls_admin.py).

Only bench/bench_http.py serves with these, on a throwaway copy of a demo bank.
"""

from rmdesk.config.settings import *  # noqa: F403 (the product's settings, unchanged but for the URLs)

ROOT_URLCONF = "bench.urls_admin"
