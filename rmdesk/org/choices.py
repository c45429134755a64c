"""Org-unit levels and user roles, with the labels users see."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitLevel(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Head office")
    BRANCH = "branch", _("Branch")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    TEAM = "team", _("Team")
    DEPARTMENT = "department", _("Department")


class Role(models.TextChoices):
    RM = "rm", _("Relationship manager")
    TEAM_LEAD = "team_lead", _("Team lead")
    BRANCH_HEAD = "branch_head", _("Branch head")
    RISK_OFFICER = "risk_officer", _("Risk officer")
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")
    OPERATIONS_OFFICER = "operations_officer", _("Operations officer")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


# A unit may only sit under a unit of the level before it; departments hang off head office or a branch.
ALLOWED_PARENT = {
    UnitLevel.HEAD_OFFICE: (),
    UnitLevel.BRANCH: (UnitLevel.HEAD_OFFICE,),
    UnitLevel.SUB_BRANCH: (UnitLevel.BRANCH,),
    UnitLevel.TEAM: (UnitLevel.SUB_BRANCH, UnitLevel.BRANCH),
    UnitLevel.DEPARTMENT: (UnitLevel.HEAD_OFFICE, UnitLevel.BRANCH),
}
