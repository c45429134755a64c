from django.urls import path

from rmdesk.postloan.views import calendar, classification, loan, lpr, overdue, portfolio, repayment

app_name = "postloan"

urlpatterns = [
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("overdue/", overdue.overdue_page, name="overdue"),
    path("overdue/export/", overdue.overdue_export, name="overdue_export"),
    path("classification/", classification.queue_page, name="queue"),
    path("portfolio/", portfolio.portfolio_page, name="portfolio"),
    path("lpr/", lpr.lpr_page, name="lpr"),
    path("<int:pk>/", loan.detail, name="detail"),
    path("<int:pk>/collection/", loan.log_collection, name="log_collection"),
    path("<int:pk>/classify/", loan.classify, name="classify"),
    path("<int:pk>/repayment/", repayment.repayment_page, name="repayment"),
    path("customers/<int:customer_pk>/panel/", loan.panel, name="panel"),
]
