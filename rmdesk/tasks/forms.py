"""The small task form an RM fills in on a customer's page."""

from __future__ import annotations

from django import forms

from rmdesk.tasks.models import Task


class TaskForm(forms.ModelForm):
    """Title, due date, priority and kind; owner and customer come from the request, never the form."""

    class Meta:
        model = Task
        fields = ["title", "due_date", "priority", "kind"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
