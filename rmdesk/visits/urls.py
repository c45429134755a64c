from django.urls import path

from rmdesk.visits.views import calendar, coverage, events, plan, record, report, visit

app_name = "visits"

urlpatterns: list = []

# --- plans, records, follow-ups, reports and calendars (views/plan.py, record.py, visit.py, report.py, calendar.py)
urlpatterns += [
    path("", visit.visit_list, name="list"),
    path("new/", plan.plan, name="plan"),
    path("home-card/", visit.home_card, name="home_card"),
    path("<int:pk>/", visit.detail, name="detail"),
    path("<int:pk>/edit/", plan.edit, name="edit"),
    path("<int:pk>/record/", record.record, name="record"),
    path("<int:pk>/checkin/", record.checkin, name="checkin"),
    path("<int:pk>/postpone/", visit.postpone, name="postpone"),
    path("<int:pk>/cancel/", visit.cancel, name="cancel"),
    path("<int:pk>/follow-up/", visit.follow_up, name="follow_up"),
    path("<int:pk>/report/", report.report, name="report"),
    path("<int:pk>/visit.ics", calendar.visit_ics, name="ics"),
    path("calendar.ics", calendar.feed, name="feed"),
    path("calendar/reset/", calendar.feed_token_reset, name="feed_token_reset"),
    path("calendar/<str:token>.ics", calendar.feed_token, name="feed_token"),
    path("customers/<int:customer_pk>/panel/", visit.panel, name="panel"),
]

# --- coverage, cadence and occasions (views/coverage.py, events.py)
urlpatterns += [
    path("coverage/", coverage.coverage_page, name="coverage"),
    path("cadence/", coverage.cadence_page, name="cadence"),
    path("events/new/", events.log_event_page, name="log_event"),
    path("customers/<int:customer_pk>/events/", events.customer_events, name="events"),
]
