"""Choices of loan contracts, their schedules and repayments."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LoanProduct(models.TextChoices):
    """The loan's product until the product catalogue (duty 2) holds them."""

    WORKING_CAPITAL = "working_capital", _("Working capital loan")
    FIXED_ASSET = "fixed_asset", _("Fixed-asset loan")
    PROJECT = "project", _("Project loan")
    TRADE_FINANCE = "trade_finance", _("Trade finance")
    PROPERTY_OPERATING = "property_operating", _("Commercial property loan")
    OTHER = "other", _("Other loan")


class Currency(models.TextChoices):
    """Schedules and penalties are computed in the contract's currency; portfolio figures add CNY loans only."""

    CNY = "CNY", _("Renminbi (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
    JPY = "JPY", _("Japanese yen (JPY)")


class RepaymentMethod(models.TextChoices):
    """The same values as the schedule kernel's `Method`."""

    ANNUITY = "annuity", _("Equal instalments (annuity)")
    EQUAL_PRINCIPAL = "equal-principal", _("Equal principal")
    INTEREST_MONTHLY = "interest-monthly", _("Monthly interest, principal at maturity")
    INTEREST_QUARTERLY = "interest-quarterly", _("Quarterly interest, principal at maturity")
    BULLET = "bullet", _("Principal and interest at maturity")


class RateKind(models.TextChoices):
    FIXED = "fixed", _("Fixed rate")
    LPR_1Y = "lpr_1y", _("1-year LPR + spread")
    LPR_5Y = "lpr_5y", _("Over-5-year LPR + spread")


class LprTenor(models.TextChoices):
    ONE_YEAR = "1y", _("1-year LPR")
    FIVE_YEAR = "5y", _("Over-5-year LPR")


class RepricingRule(models.TextChoices):
    ANNIVERSARY = "anniversary", _("On each anniversary of the drawdown")
    JANUARY_FIRST = "january_first", _("On 1 January")


class GuaranteeMethod(models.TextChoices):
    CREDIT = "credit", _("Unsecured (credit)")
    GUARANTEE = "guarantee", pgettext_lazy("guarantee method", "Guarantee")
    MORTGAGE = "mortgage", _("Mortgage")
    PLEDGE = "pledge", _("Pledge")


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class Classification(models.IntegerChoices):
    """Five-category classification 五级分类; a higher value is worse (so max() is the stricter one)."""

    NORMAL = 1, pgettext_lazy("classification", "Normal")
    SPECIAL_MENTION = 2, _("Special mention")
    SUBSTANDARD = 3, _("Substandard")
    DOUBTFUL = 4, _("Doubtful")
    LOSS = 5, _("Loss")


NON_PERFORMING = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)


class ScheduleSource(models.TextChoices):
    """Who computed the schedule: rmdesk's engine, or the core banking system (then it is the book of record)."""

    RMDESK = "rmdesk", _("Computed by rmdesk")
    CORE = "core", _("Core banking system")


class InstalmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due today")
    OVERDUE = "overdue", _("Overdue")
    PAID = "paid", _("Paid")


class RepaymentSource(models.TextChoices):
    CORE_FEED = "core_feed", _("Core banking daily file")
    MANUAL = "manual", _("Entered by operations")


class Component(models.TextChoices):
    """What a repayment pays; the default allocation order is this order (settings.REPAYMENT_ALLOCATION_ORDER)."""

    FEE = "fee", _("Fees")
    PENALTY = "penalty", _("Penalty interest")
    COMPOUND = "compound", _("Compound interest")
    INTEREST = "interest", pgettext_lazy("loan amount", "Interest")
    PRINCIPAL = "principal", _("Principal")


class AccrualKind(models.TextChoices):
    PENALTY = "penalty", _("Penalty interest on overdue principal")
    COMPOUND = "compound", _("Compound interest on overdue interest")
