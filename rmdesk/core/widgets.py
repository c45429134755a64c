"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms


class FixedChoicesSelect(forms.Select):
    """A select whose choices are the same for every request in a language (enums, reference data, settings).

    The layout renders it once per process for each language, name, value and set of classes (web's `form_control`):
    the customer list's six filter selects, 83 options in all, were 0.8 ms of every full list and search page (about a
    tenth). Give it only choices that never change while the process runs: one read from the database would be shown
    stale.
    """
