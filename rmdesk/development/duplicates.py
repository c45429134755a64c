"""Catching a firm that is already on file when a prospect is registered: the same credit code, or a very similar
name in the same region (杭州华兴科技有限公司 and 华兴科技股份有限公司 are one firm to a bank).

The comparison itself is pure; the candidates come from the quick-search name grams, so a check reads the few
customers that share most of the name's two-character windows rather than every customer of a region.
"""

from __future__ import annotations

import math

from django.db.models import Count

from rmdesk.customers.models import Customer, CustomerNameGram
from rmdesk.customers.search import LEGAL_FORMS, name_grams, normalize

# Dice similarity of the names' two-character windows at or above which two names are taken for one firm.
SIMILARITY = 0.8
# Legal forms and group words stripped from the end of a name, longest first; stripped repeatedly, so that
# 华兴集团有限公司 and 华兴有限公司 both come down to 华兴.
_SUFFIXES = tuple(sorted({*LEGAL_FORMS, "集团"}, key=len, reverse=True))
# Beyond this many candidates sharing enough windows, the rest are not read (a name made of common words).
_CANDIDATE_LIMIT = 200


def core_name(name: str) -> str:
    """The normalised name without its legal form: 华兴科技有限公司 → 华兴科技."""
    text = normalize(name)
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                stripped = True
                break
    return text


def _bigrams(text: str) -> set[str]:
    return {gram for _position, gram in name_grams(text)}


def similarity(a: str, b: str) -> float:
    """Dice similarity of two names' cores over their two-character windows (1.0 for equal cores)."""
    core_a, core_b = core_name(a), core_name(b)
    if core_a == core_b:
        return 1.0
    grams_a, grams_b = _bigrams(core_a), _bigrams(core_b)
    if not grams_a or not grams_b:
        return 0.0
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b))


def is_similar(a: str, b: str) -> bool:
    return similarity(a, b) >= SIMILARITY


def similar_customers(name: str, region: str) -> list[Customer]:
    """Customers on file (not archived) in `region` whose name is very similar to `name`, most similar first."""
    core = core_name(name)
    if not core:
        return []
    grams = _bigrams(core)
    # Dice ≥ 0.8 needs |A∩B| ≥ 0.4(|A|+|B|) with |B| ≥ |A∩B|, hence at least two thirds of A's windows shared.
    needed = math.ceil(len(grams) * 2 / 3)
    candidate_ids: set[int] = set()
    if grams:
        rows = (
            CustomerNameGram.objects.filter(gram__in=sorted(grams), customer__region=region)
            .values("customer_id")
            .annotate(shared=Count("gram", distinct=True))
            .filter(shared__gte=needed)
            .values_list("customer_id", flat=True)[:_CANDIDATE_LIMIT]
        )
        candidate_ids.update(rows)
    # A one-character core has no windows: it is the same firm only under another legal form.
    exact = [core, *(core + suffix for suffix in _SUFFIXES)]
    candidate_ids.update(
        Customer.objects.filter(search_name__in=exact, region=region).values_list("pk", flat=True)[:_CANDIDATE_LIMIT]
    )
    candidates = Customer.objects.filter(pk__in=candidate_ids, archived_at__isnull=True).order_by("pk")
    scored = [(similarity(name, c.name), c) for c in candidates]
    return [c for score, c in sorted(scored, key=lambda pair: (-pair[0], pair[1].pk)) if score >= SIMILARITY]
