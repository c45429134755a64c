"""The development read pages (board, list, funnel, market) and their API endpoints: in scope, in both languages,
404 out of scope or without access, bad filters named."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.development.choices import Source
from rmdesk.development.models import Prospect
from tests.development.factories import make_prospect
from tests.personas import Bank

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGES = ["development:board", "development:list", "development:funnel", "development:market"]
JAN = date(2024, 1, 10)


def login(client: Client, user: Any, language: str = "zh-hans") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def recent(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


@pytest.fixture
def pipeline(bank: Bank) -> dict[str, Prospect]:
    return {
        "late": make_prospect(
            bank.alice, name="西湖电子有限公司", found_on=recent(20), contact_due=recent(1), industry="39",
            region="330100",
        ),
        "visited": make_prospect(
            bank.alice, name="钱塘物流有限公司", found_on=recent(40), steps=[("contacted", 5), ("visited", 10)],
            score=Decimal("72.50"), source=Source.SEMINARS,
        ),
        "won": make_prospect(bank.alice, name="之江材料有限公司", found_on=recent(60), steps=[("won", 30)]),
        "daves": make_prospect(bank.dave, name="灵隐茶业有限公司", found_on=recent(10)),
        "pool": make_prospect(bank.dave, name="孤山文创有限公司", found_on=recent(10), in_pool=True),
        "carols": make_prospect(bank.carol, name="宁波港务有限公司", found_on=recent(10), steps=[("contacted", 1)]),
    }  # fmt: skip


# --- pages ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_a_login(client: Client, bank: Bank, page: str) -> None:
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_gets_404(client: Client, bank: Bank, page: str, persona: str) -> None:
    response = login(client, getattr(bank, persona)).get(reverse(page))
    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_render_in_both_languages(
    client: Client, bank: Bank, pipeline: dict[str, Prospect], page: str, language: str
) -> None:
    # when
    response = login(client, bank.lead, language).get(reverse(page))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    if language == "en":
        assert "Customer development" in html or "Development funnel" in html or "Market" in html


def test_the_board_shows_the_rms_open_prospects_by_stage(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    response = login(client, bank.alice, "en").get(reverse("development:board"))
    # then
    html = response.content.decode()
    assert "西湖电子有限公司" in html and "钱塘物流有限公司" in html
    assert reverse("customers:detail", args=[pipeline["late"].customer_id]) in html
    assert "之江材料有限公司" not in html  # won: no longer on the board
    assert "灵隐茶业有限公司" not in html and "宁波港务有限公司" not in html  # other RMs' books
    assert "Contact overdue" in html
    assert "Score 72.50" in html
    assert "30 days in stage" in html  # visited on day 10 of the 40 since it was found
    columns = [column["count"] for column in response.context["columns"]]
    assert columns == [1, 0, 1, 0]


def test_a_lead_sees_the_team_board_and_can_pick_an_rm_or_the_pool(client: Client, bank: Bank, pipeline: Any) -> None:
    # given
    login(client, bank.lead, "en")
    # when
    everyone = client.get(reverse("development:board")).content.decode()
    daves = client.get(reverse("development:board"), {"rm": bank.dave.pk}).content.decode()
    pool = client.get(reverse("development:board"), {"rm": "pool"}, **HTMX)
    # then
    assert "灵隐茶业有限公司" in everyone and "孤山文创有限公司" in everyone and "西湖电子有限公司" in everyone
    assert "宁波港务有限公司" not in everyone
    assert "灵隐茶业有限公司" in daves and "西湖电子有限公司" not in daves
    assert pool.templates[0].name == "development/partials/board.html"
    assert "孤山文创有限公司" in pool.content.decode() and "灵隐茶业有限公司" not in pool.content.decode()


def test_an_rm_filter_outside_the_leads_team_is_a_field_error(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    response = login(client, bank.lead, "en").get(reverse("development:board"), {"rm": bank.carol.pk})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters are not valid" in html
    assert "宁波港务有限公司" not in html and "西湖电子有限公司" not in html


def test_the_list_filters_sorts_and_shows_every_stage_on_request(client: Client, bank: Bank, pipeline: Any) -> None:
    # given
    login(client, bank.alice, "en")
    # when
    open_ = client.get(reverse("development:list")).content.decode()
    by_score = client.get(reverse("development:list"), {"sort": "score"}, **HTMX)
    seminars = client.get(reverse("development:list"), {"source": Source.SEMINARS}).content.decode()
    won = client.get(reverse("development:list"), {"stage": "won"}).content.decode()
    bad = client.get(reverse("development:list"), {"stage": "nonsense"}).content.decode()
    # then
    assert "2 prospects" in open_ and "之江材料有限公司" not in open_
    assert [card.prospect.pk for card in by_score.context["cards"]] == [pipeline["visited"].pk, pipeline["late"].pk]
    assert by_score.templates[0].name == "development/partials/list_rows.html"
    assert "钱塘物流有限公司" in seminars and "西湖电子有限公司" not in seminars
    assert "之江材料有限公司" in won
    assert "Some filters are not valid" in bad


def test_a_user_with_no_prospects_sees_the_empty_state(client: Client, bank: Bank, pipeline: Any) -> None:
    login(client, bank.bob, "en")
    for page in PAGES:
        html = client.get(reverse(page)).content.decode()
        assert "No prospects here yet" in html, page


def test_the_funnel_page_hands_its_charts_their_data(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    response = login(client, bank.lead, "en").get(reverse("development:funnel"))
    # then
    html = response.content.decode()
    assert 'id="funnel-chart-data"' in html
    assert 'data-dev-chart="funnel"' in html and 'data-dev-chart="sources"' in html
    assert "development/charts.js" in html and "vendor/echarts/echarts.min.js" in html
    assert "<script>" not in html  # no inline script: the CSP forbids it
    chart = response.context["chart"]
    # The win skipped 接触, 拜访 and 方案 and counts at each.
    assert [stage["value"] for stage in chart["stages"]] == [5, 2, 2, 1, 1]
    assert "By RM" in html and "Alice" in html and "Dave" in html
    assert "20.0%" in html  # overall: 1 of 5


def test_the_funnel_page_names_a_bad_period(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    response = login(client, bank.alice, "en").get(
        reverse("development:funnel"), {"found_from": "2024-05-01", "found_to": "2024-04-01"}
    )
    # then
    assert response.status_code == 200
    assert "The end of the period cannot be before its start." in response.content.decode()


def test_the_market_page_charts_sections_and_provinces(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    response = login(client, bank.alice, "zh-hans").get(reverse("development:market"))
    # then
    html = response.content.decode()
    assert 'id="market-chart-data"' in html
    assert html.count('data-dev-chart="stacked"') == 2
    assert "C 制造业" in html and "浙江省" in html


# --- API -----------------------------------------------------------------------------------------------------------


API = "/api/v1/development"


@pytest.mark.parametrize("path", ["/prospects", "/prospects/1", "/funnel", "/market"])
def test_the_api_answers_401_to_anonymous_requests(client: Client, bank: Bank, path: str) -> None:
    response = client.get(API + path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("path", ["/prospects", "/funnel", "/market"])
def test_the_api_answers_404_to_a_role_without_customer_access(client: Client, bank: Bank, path: str) -> None:
    response = login(client, bank.admin).get(API + path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_api_lists_the_prospects_in_scope_page_by_page(client: Client, bank: Bank, pipeline: Any) -> None:
    # given
    login(client, bank.alice)
    # when
    first = client.get(API + "/prospects", {"limit": 1}).json()
    second = client.get(API + "/prospects", {"limit": 1, "cursor": first["next_cursor"]}).json()
    every = client.get(API + "/prospects", {"stage": "all"}).json()
    # then
    assert [item["name"] for item in first["items"] + second["items"]] == ["西湖电子有限公司", "钱塘物流有限公司"]
    assert second["next_cursor"] is None
    late = first["items"][0]
    assert late["stage"] == "identified" and late["contact_overdue"] is True and late["score"] is None
    assert late["primary_rm"] == "alice" and late["owning_unit"] == "T1" and late["days_in_stage"] == 20
    assert second["items"][0]["score"] == "72.50"
    assert {item["name"] for item in every["items"]} == {"西湖电子有限公司", "钱塘物流有限公司", "之江材料有限公司"}


def test_the_api_filters_by_rm_and_names_a_bad_filter(client: Client, bank: Bank, pipeline: Any) -> None:
    # given
    login(client, bank.lead)
    # when
    pool = client.get(API + "/prospects", {"rm": "pool"}).json()
    bad = client.get(API + "/prospects", {"stage": "nonsense", "rm": bank.carol.pk})
    # then
    assert [item["name"] for item in pool["items"]] == ["孤山文创有限公司"]
    assert pool["items"][0]["primary_rm"] is None
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"stage", "rm"}


def test_the_api_gives_one_prospect_with_its_history_and_404_out_of_scope(
    client: Client, bank: Bank, pipeline: Any
) -> None:
    # given
    login(client, bank.alice)
    # when
    mine = client.get(f"{API}/prospects/{pipeline['visited'].customer_id}")
    carols = client.get(f"{API}/prospects/{pipeline['carols'].customer_id}")
    daves = client.get(f"{API}/prospects/{pipeline['daves'].customer_id}")  # same team, not alice's
    # then
    assert mine.status_code == 200
    assert [(c["from_stage"], c["to_stage"]) for c in mine.json()["stage_changes"]] == [
        ("", "identified"),
        ("identified", "contacted"),
        ("contacted", "visited"),
    ]
    assert carols.status_code == 404 and daves.status_code == 404
    assert carols.json() == daves.json()  # nothing tells the two apart


def test_the_api_funnel_gives_counts_and_rates_as_strings(client: Client, bank: Bank) -> None:
    # given
    make_prospect(bank.alice, found_on=JAN, steps=[("contacted", 1), ("won", 9)])
    make_prospect(bank.alice, found_on=JAN, steps=[("contacted", 2)])
    make_prospect(bank.alice, found_on=JAN, steps=[("dropped", 2)], drop_reason="规模太小")
    make_prospect(bank.carol, found_on=JAN, steps=[("won", 2)])
    # when
    body = login(client, bank.alice).get(API + "/funnel", {"found_from": "2024-01-01", "found_to": "2024-12-31"}).json()
    # then
    assert body["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert body["found"] == 3
    assert [(s["stage"], s["reached"], s["to_next"]) for s in body["stages"]] == [
        ("identified", 3, "66.7"),
        ("contacted", 2, "50.0"),
        ("visited", 1, "100.0"),
        ("proposal", 1, "100.0"),
        ("won", 1, None),
    ]
    assert body["stages"][0]["drop_reasons"] == [{"reason": "规模太小", "count": 1}]
    assert body["overall_rate"] == "33.3"
    assert body["by_rm"] is None
    assert body["by_source"][0] == {"source": 1, "label": body["by_source"][0]["label"], "found": 3, "won": 1,
                                    "rate": "33.3"}  # fmt: skip
    assert body["time_to_convert"] == {"won": 1, "median_days": "9.0", "p90_days": 9}


def test_the_api_funnel_of_a_lead_has_rows_per_rm_and_names_a_bad_period(client: Client, bank: Bank) -> None:
    # given
    make_prospect(bank.dave, found_on=recent(5))
    login(client, bank.lead)
    # when
    body = client.get(API + "/funnel").json()
    bad = client.get(API + "/funnel", {"found_from": "2024-05-01", "found_to": "2024-04-01"})
    # then
    assert [(row["rm_id"], row["found"], row["reached"]["identified"]) for row in body["by_rm"]] == [
        (bank.dave.pk, 1, 1)
    ]
    assert bad.status_code == 422
    assert list(bad.json()["fields"]) == ["found_to"]


def test_the_api_market_groups_by_section_and_region(client: Client, bank: Bank, pipeline: Any) -> None:
    # when
    body = login(client, bank.alice, "en").get(API + "/market", {"province": "33"}).json()
    # then
    sections = {row["code"]: row for row in body["by_section"]}
    assert sections["C"]["prospect"] == 1 and sections["C"]["found"] == 1 and sections["C"]["rate"] == "0.0"
    assert body["totals"] == {"prospect": 2, "target": 0, "customer": 1}
    assert body["province"] == "33"
    assert [row["code"] for row in body["by_city"]] == ["330100"]
    assert client.get(API + "/market", {"province": "99"}).status_code == 422


def test_the_openapi_schema_lists_the_development_endpoints(client: Client, bank: Bank) -> None:
    paths = login(client, bank.alice).get("/api/v1/openapi.json").json()["paths"]
    for path in ("/prospects", "/prospects/{customer_id}", "/funnel", "/market"):
        assert "get" in paths[f"{API}{path}"]
