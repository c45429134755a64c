"""rmdesk settings: everything a deployment changes comes from RMDESK_* environment variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rmdesk.config import env

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = env.data_dir()

DEBUG = env.env_bool("RMDESK_DEBUG", False)
TESTING = "pytest" in sys.modules or env.env_bool("RMDESK_TESTING", False)
# Demo mode (set by `rmdesk demo`) allows the published demo password and plain HTTP on a laptop.
DEMO_MODE = env.env_bool("RMDESK_DEMO", False)
HTTPS = env.env_bool("RMDESK_HTTPS", not (DEBUG or DEMO_MODE or TESTING))

SECRET_KEY = env.secret_key(DATA_DIR)
ALLOWED_HOSTS = env.env_list("RMDESK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.env_list("RMDESK_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "rmdesk.core",
    "rmdesk.org",
    "rmdesk.access",
    "rmdesk.audit",
    "rmdesk.customers",
    "rmdesk.tasks",
    "rmdesk.development",
    "rmdesk.visits",
    "rmdesk.loans",
    "rmdesk.postloan",
    "rmdesk.batch",
    "rmdesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rmdesk.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rmdesk.config.urls"
WSGI_APPLICATION = "rmdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "rmdesk.web.context_processors.end_of_day",
            ],
        },
    }
]

DATABASES = {"default": env.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Indexes that carry the id (INCLUDE) for PostgreSQL's index-only scans: SQLite's indexes hold the rowid anyway, so
# the column it ignores is one it has (customers.Customer: customer_unit_status, customer_unit_list).
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "org.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is not what the suite tests; argon2 is still the production hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rmdesk.org.backends.UserBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username from one address after repeated failures, not the whole address.
AXES_FAILURE_LIMIT = env.env_int("RMDESK_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.env_int("RMDESK_PROXY_COUNT", 0)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start while it is missing
NODE_MODULES = Path(os.environ.get("RMDESK_NODE_MODULES") or PROJECT_DIR / "node_modules")
# Front-end libraries come from npm (package-lock.json) and are served by WhiteNoise: bank intranets are
# offline, so nothing loads from a CDN.
STATICFILES_DIRS = [
    ("vendor/tabler", NODE_MODULES / "@tabler/core/dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org/dist"),
    ("vendor/echarts", NODE_MODULES / "echarts/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = DATA_DIR / "documents"
MEDIA_URL = "/documents/"  # never served directly: downloads go through a scoped view
DOCUMENT_MAX_BYTES = env.env_int("RMDESK_DOCUMENT_MAX_MB", 20, minimum=1) * 1024 * 1024
DOCUMENT_EXTENSIONS = env.env_list("RMDESK_DOCUMENT_EXTENSIONS", ["pdf", "jpg", "jpeg", "png", "xlsx", "docx", "ofd"])
# Customer imports: uploads wait under the data directory for the background worker (`rmdesk db_worker`).
IMPORT_DIR = DATA_DIR / "imports"
IMPORT_MAX_BYTES = env.env_int("RMDESK_IMPORT_MAX_MB", 20, minimum=1) * 1024 * 1024
IMPORT_MAX_ROWS = env.env_int("RMDESK_IMPORT_MAX_ROWS", 200_000, minimum=1)
# Days an upload job's page and error file are kept after the job last wrote one (customers.imports.store).
IMPORT_KEEP_DAYS = env.env_int("RMDESK_IMPORT_KEEP_DAYS", 30, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Internal credit rating scale, best first; banks differ, so it is a setting.
CREDIT_RATING_SCALE = env.env_list("RMDESK_CREDIT_RATINGS", ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"])

# Security. Behind a TLS-terminating proxy set RMDESK_HTTPS=1 (the default outside debug and demo).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.env_int("RMDESK_SESSION_HOURS", 10, minimum=1) * 3600
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # ECharts and Tabler set inline style attributes
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RMDESK_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Visit occasions (issue 5): founding anniversaries that are whole multiples of these years propose a visit this many
# days ahead.
VISIT_ANNIVERSARY_YEARS = env.env_int("RMDESK_VISIT_ANNIVERSARY_YEARS", 5, minimum=1)
VISIT_ANNIVERSARY_LEAD_DAYS = env.env_int("RMDESK_VISIT_ANNIVERSARY_LEAD_DAYS", 14, minimum=0)

# Due dates on a non-working day (domain.md §5): "next_working_day" rolls them to the next working day by
# chinese-calendar's holidays and adjusted working days (weekends only beyond the years it covers); "none" keeps them.
DUE_DATE_ROLL = env.env_choice("RMDESK_DUE_DATE_ROLL", "next_working_day", ("next_working_day", "none"))

# Loans (issue 6): the order in which a repayment pays an instalment's components, oldest instalment first
# (domain.md §5; default fees → penalty → compound → interest → principal). Checked here, at start-up.
REPAYMENT_ALLOCATION_ORDER = env.env_order(
    "RMDESK_REPAYMENT_ALLOCATION_ORDER", ["fee", "penalty", "compound", "interest", "principal"]
)

# Five-category classification 五级分类 proposed from days past due (domain.md §5): overdue more than these days is at
# least 次级 (substandard), 可疑 (doubtful), 损失 (loss); any overdue at least 关注 (special mention).
CLASSIFY_SUBSTANDARD_DAYS = env.env_int("RMDESK_CLASSIFY_SUBSTANDARD_DAYS", 90, minimum=1)
CLASSIFY_DOUBTFUL_DAYS = env.env_int("RMDESK_CLASSIFY_DOUBTFUL_DAYS", 270, minimum=1)
CLASSIFY_LOSS_DAYS = env.env_int("RMDESK_CLASSIFY_LOSS_DAYS", 360, minimum=1)
if not CLASSIFY_SUBSTANDARD_DAYS < CLASSIFY_DOUBTFUL_DAYS < CLASSIFY_LOSS_DAYS:
    raise env.ImproperlyConfigured(
        "RMDESK_CLASSIFY_SUBSTANDARD_DAYS < RMDESK_CLASSIFY_DOUBTFUL_DAYS < RMDESK_CLASSIFY_LOSS_DAYS must hold."
    )

# Penalty interest 罚息 on overdue principal at the contract rate raised by this percentage (domain.md §5: 30–50,
# default 50), and compound interest 复利 on overdue interest at the same penalty rate unless a bank turns it off.
PENALTY_UPLIFT_PCT = env.env_int("RMDESK_PENALTY_UPLIFT_PCT", 50, minimum=0)
COMPOUND_ON_OVERDUE_INTEREST = env.env_bool("RMDESK_COMPOUND_ON_OVERDUE_INTEREST", True)
# The end-of-day batch reminds the primary RM of an instalment this many days before it falls due.
DUE_REMINDER_DAYS = env.env_int_list("RMDESK_DUE_REMINDER_DAYS", [7, 3, 1], minimum=1)
