from django.urls import path

from rmdesk.tasks import views

app_name = "tasks"

urlpatterns = [
    path("", views.task_list, name="list"),
    path("new/", views.task_create, name="create"),
    path("<int:pk>/done/", views.task_complete, name="complete"),
    path("notices/read/", views.notices_read, name="notices_read"),
]
