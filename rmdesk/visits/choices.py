"""The vocabulary of visiting customers 拜访客户 (domain.md §4 and §2), with the labels users see."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    # Did not happen at the planned time and waits for a new date (a postponement with a new date stays planned).
    POSTPONED = "postponed", _("Postponed")
    CANCELLED = "cancelled", _("Cancelled")


class VisitPurpose(models.TextChoices):
    RELATIONSHIP = "relationship", _("Relationship upkeep")
    FIRST_CONTACT = "first_contact", _("First contact")
    NEEDS = "needs", _("Explore needs")
    PRODUCTS = "products", _("Present products")
    PROPOSAL = "proposal", _("Discuss a proposal")
    TIMING = "timing", _("Seize an occasion")
    SERVICE = "service", _("Service or problem solving")
    COLLECTION = "collection", _("Collect interest and principal")
    OTHER = "other", _("Other")


class VisitMode(models.TextChoices):
    ON_SITE = "on_site", _("At the customer")
    AT_BANK = "at_bank", _("At the bank")
    REMOTE = "remote", _("By phone or video")


class PrepItem(models.TextChoices):
    """The preparation checklist of §4.1 认真准备, in its order."""

    RESEARCH = "research", _("Research the customer")
    PLAN = "plan", _("Make a plan and strategy")
    KEY_PEOPLE = "key_people", _("Find the key links and key people")
    APPOINTMENT = "appointment", _("Appointment confirmed (time, place, attendees)")
    IMAGE = "image", _("Good image and spirit")
    MATERIALS = "materials", _("Brochures, product descriptions and other materials")


class EventKind(models.TextChoices):
    """The five good moments to visit of §4.2 把握时机."""

    NEW_NEED = "new_need", _("New business need or newly opened")
    HAPPY_EVENT = "happy_event", _("Happy event")
    DISSATISFIED = "dissatisfied", _("Dissatisfied with another bank")
    STRUCTURAL_CHANGE = "structural_change", _("Major structural change")
    OPERATING_CHANGE = "operating_change", _("Major change in how it runs")


class EventOrigin(models.TextChoices):
    LOGGED = "logged", _("Logged by a user")
    DETECTED = "detected", _("Detected from the archive")


class NeedTag(models.TextChoices):
    """The main financial needs an RM hears about (§4.3 (2)), as tags."""

    DEPOSITS = "deposits", _("Deposits")
    SETTLEMENT = "settlement", _("Settlement and accounts")
    WORKING_CAPITAL = "working_capital", _("Working capital loan")
    FIXED_ASSET = "fixed_asset", _("Fixed asset or project loan")
    TRADE_FINANCE = "trade_finance", _("Trade finance")
    BILLS = "bills", _("Bank acceptance bills and discounting")
    GUARANTEES = "guarantees", _("Letters of guarantee")
    SUPPLY_CHAIN = "supply_chain", _("Supply chain finance")
    CASH_MANAGEMENT = "cash_management", _("Cash management")
    INTERNATIONAL = "international", _("International settlement and FX")
    PAYROLL = "payroll", _("Payroll services")
    WEALTH = "wealth", _("Wealth management")
    INVESTMENT_BANKING = "investment_banking", _("Investment banking and bonds")
    OTHER = "other", _("Other")


class ProposalResponse(models.TextChoices):
    """How the customer answered a proposal (§4.4: mind offer and counter-offer, 发盘/接盘)."""

    PENDING = "pending", _("Considering")
    ACCEPTED = "accepted", _("Accepted")
    COUNTERED = "countered", _("Counter-offer")
    DECLINED = "declined", _("Declined")


class Interest(models.TextChoices):
    """The customer's interest in a product presented (§4.5)."""

    HIGH = "high", _("High")
    MEDIUM = "medium", _("Some")
    LOW = "low", _("Little")
    NONE = "none", _("None")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class SelfCheck(models.TextChoices):
    """The visit's self-check: the taboos of §4.6 avoided, and the etiquette of §2 kept."""

    ATTENTIVE = "attentive", _("Attentive while talking")
    NOT_CASUAL = "not_casual", _("Not casual or perfunctory with a familiar customer")
    HONORIFICS = "honorifics", _("Used honorifics")
    NO_DISPLEASURE = "no_displeasure", _("Showed no displeasure at the customer's behaviour")
    DRESS = "dress", _("Dress: neat, natural, tidy, appropriate")
    BEARING = "bearing", _("Bearing")
    EXPRESSION = "expression", _("Expression: friendly, frank, natural, gentle")
    LANGUAGE = "language", _("Language: civil, polite, elegant, tactful")
    INTRODUCTIONS = "introductions", _("Introductions")
    HANDSHAKE = "handshake", _("Handshake")
    PUNCTUAL = "punctual", _("Visiting: by appointment and on time")


class CheckinStatus(models.TextChoices):
    NONE = "none", _("No check-in")
    LOCATED = "located", _("Checked in with location")
    DENIED = "denied", _("Checked in; location permission refused")
    UNAVAILABLE = "unavailable", _("Checked in; location unavailable")


class FollowUpKind(models.TextChoices):
    TASK = "task", _("Task")
    STAGE = "stage", _("Prospect stage change")
