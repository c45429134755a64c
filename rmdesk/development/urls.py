from django.urls import path

from rmdesk.development.views import overview, pool, prospect, scorecard, suggestions

app_name = "development"

urlpatterns = [
    path("", overview.pipeline_board, name="board"),
    path("list/", overview.pipeline_list, name="list"),
    path("funnel/", overview.funnel_page, name="funnel"),
    path("market/", overview.market_page, name="market"),
    path("new/", prospect.register, name="register"),
    path("pool/", pool.pool_page, name="pool"),
    path("pool/<int:prospect_pk>/claim/", pool.pool_claim, name="claim"),
    path("pool/<int:prospect_pk>/assign/", pool.pool_assign, name="assign"),
    path("claims/<int:claim_pk>/approve/", pool.claim_approve, name="approve_claim"),
    path("claims/<int:claim_pk>/reject/", pool.claim_reject, name="reject_claim"),
    path("claims/<int:claim_pk>/withdraw/", pool.claim_withdraw, name="withdraw_claim"),
    path("prospects/<int:customer_pk>/", prospect.prospect_page, name="prospect"),
    path("prospects/<int:customer_pk>/panel/", prospect.prospect_panel, name="panel"),
    path("prospects/<int:customer_pk>/move/", prospect.prospect_move, name="move"),
    path("prospects/<int:customer_pk>/release/", prospect.prospect_release, name="release"),
    path("prospects/<int:customer_pk>/rate/", prospect.prospect_rate, name="rate"),
    path("prospects/<int:customer_pk>/apply-status/", prospect.prospect_apply_status, name="apply_status"),
    path("prospects/<int:customer_pk>/merge/", prospect.prospect_merge, name="merge"),
    path("suggestions/", suggestions.suggestions_page, name="suggestions"),
    path("suggestions/accept/", suggestions.suggestion_accept, name="accept_suggestion"),
    path("suggestions/dismiss/", suggestions.suggestion_dismiss, name="dismiss_suggestion"),
    path("scorecard/", scorecard.scorecard_page, name="scorecard"),
    path("scorecard/edit/", scorecard.scorecard_edit, name="scorecard_edit"),
]
