from django.contrib.auth.views import LogoutView
from django.urls import path

from rmdesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.WorkbenchLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
