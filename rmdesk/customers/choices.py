"""The customer archive's fixed vocabularies, with the Chinese labels users see."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EnterpriseSize(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class Ownership(models.TextChoices):
    STATE = "state", _("State-owned")
    COLLECTIVE = "collective", _("Collective")
    PRIVATE = "private", _("Private")
    FOREIGN = "foreign", _("Foreign-invested")
    HMT = "hmt", _("Hong Kong, Macao or Taiwan invested")
    MIXED = "mixed", _("Mixed ownership")
    OTHER = "other", _("Other")


class Tier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    CORE = "core", _("Core")
    KEY = "key", _("Key")
    GENERAL = "general", _("General")


class LifecycleStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    TARGET = "target", _("Target")
    CUSTOMER = "customer", _("Customer")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class KeyPersonRole(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
    ACTUAL_CONTROLLER = "actual_controller", _("Actual controller")
    FINANCE_HEAD = "finance_head", _("Finance head")
    FINANCE_STAFF = "finance_staff", _("Finance staff")
    DECISION_MAKER = "decision_maker", _("Other decision maker")


class DecisionRole(models.TextChoices):
    DECIDER = "decider", _("Decides")
    INFLUENCER = "influencer", _("Influences the decision")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    EXECUTOR = "executor", _("Carries out")


class RelationshipKind(models.TextChoices):
    AFFILIATE = "affiliate", _("Affiliate")
    GUARANTEE = "guarantee", _("Guarantee")
    SUPPLY_CHAIN = "supply_chain", _("Supplier / buyer")
    COMMON_CONTROLLER = "common_controller", _("Common controller")


class Direction(models.TextChoices):
    """Which way the link points, read from the customer's side."""

    OUTWARD = "outward", _("Customer → counterparty")
    INWARD = "inward", _("Counterparty → customer")
    MUTUAL = "mutual", _("Both ways")


class DocumentKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    FINANCIAL_REPORT = "financial_report", _("Financial report")
    ARTICLES = "articles", _("Articles of association")
    ID_COPY = "id_copy", _("Identity document copy")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")
