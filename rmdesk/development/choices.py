"""The vocabulary of customer development 客户开发 (domain.md §3), with the labels users see."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Source(models.IntegerChoices):
    """The 12 basic ways of finding target customers (搜寻目标客户的基本途径), numbered as the code of conduct does."""

    MEDIA = 1, _("Internet, TV, radio, newspapers and other media")
    GOVERNMENT = 2, _("Government economic departments")
    INDUSTRY_BODIES = 3, _("Industry research departments and associations")
    CONSULTANCIES = 4, _("Professional consultancies")
    PUBLICATIONS = 5, _("Public publications (statistical yearbooks, phone directories)")
    OTHER_INSTITUTIONS = 6, _("Other banks and securities firms")
    SEMINARS = 7, _("Professional seminars and exchange meetings")
    BANK_ARCHIVES = 8, _("The bank's own archive materials")
    PERSONAL_CONTACTS = 9, _("The RM's personal contacts")
    SUPPLY_CHAIN = 10, _("Upstream and downstream of existing customers")
    GUARANTORS = 11, _("Guarantors of existing customers")
    AFFILIATES = 12, _("Affiliates of existing customers")


# Sources 10–12 come from an existing customer's relationships: the prospect names the customer who led to it.
REFERRED_SOURCES = frozenset({Source.SUPPLY_CHAIN, Source.GUARANTORS, Source.AFFILIATES})


class Stage(models.TextChoices):
    """The development pipeline, in order; WON and DROPPED end it."""

    IDENTIFIED = "identified", _("Identified")
    CONTACTED = "contacted", _("Contacted")
    VISITED = "visited", _("Visited")
    PROPOSAL = "proposal", _("Proposal")
    WON = "won", _("Won (account opened or contract signed)")
    DROPPED = "dropped", _("Dropped")


OPEN_STAGES = (Stage.IDENTIFIED, Stage.CONTACTED, Stage.VISITED, Stage.PROPOSAL)
CLOSED_STAGES = (Stage.WON, Stage.DROPPED)


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the team lead")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("claim", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Characteristic(models.IntegerChoices):
    """The 14 characteristics of a target customer (目标客户特征), numbered as the code of conduct does."""

    ENCOURAGED_INDUSTRY = 1, _("State-supported or encouraged industry")
    COMPETITIVE_ADVANTAGE = 2, _("Competitive advantage over its peers")
    CREDIT_STANDING = 3, _("Good market reputation and a high credit rating")
    PRODUCTS_AND_CASH = 4, _("High-tech products that sell widely, with fast cash return")
    FINANCIAL_STRUCTURE = 5, _("Sound financial structure and good growth")
    GOVERNANCE = 6, _("Flexible mechanisms, scientific management, sound governance")
    FITS_THE_BANK = 7, _("Matches the bank's service capacity")
    UNMET_NEEDS = 8, _("Unmet financial needs that can bring the bank returns")
    OPERATING_WELL = 9, _("Operating well")
    CAPABLE_MANAGEMENT = 10, _("Managers with vision and strong management ability")
    PROMISING_REGION = 11, _("A region with good prospects")
    STABLE_PARTNERS = 12, _("Stable suppliers and customers")
    STAFF_AND_BRAND = 13, _("Quality staff and a known name")
    BANKING_VOLUME = 14, _("Needs and can use bank services, bringing business volume")


class RatingOrigin(models.TextChoices):
    DATA = "data", _("From the archive")
    RM = "rm", _("Rated by the RM")
