from django.urls import path

from rmdesk.customers import views
from rmdesk.customers.exports import export_view
from rmdesk.customers.imports import views as import_views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("quick-search/", views.quick_search, name="quick_search"),
    path("new/", views.customer_create, name="create"),
    path("export.xlsx", export_view, name="export"),
    path("import/", import_views.import_page, name="import"),
    path("import/template.xlsx", import_views.import_template, name="import_template"),
    path("import/<uuid:job>/", import_views.import_status, name="import_status"),
    path("import/<uuid:job>/errors.xlsx", import_views.import_errors, name="import_errors"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    # Each section of the 360° page is also its own partial, rendered by the same view.
    path("<int:pk>/key-persons/", views.customer_detail, {"section": "key_persons"}, name="key_persons"),
    path("<int:pk>/financials/", views.customer_detail, {"section": "financials"}, name="financials"),
    path("<int:pk>/relationships/", views.customer_detail, {"section": "relationships"}, name="relationships"),
    path("<int:pk>/documents/", views.customer_detail, {"section": "documents"}, name="documents"),
    path("<int:pk>/timeline/", views.customer_detail, {"section": "timeline"}, name="timeline"),
    path("<int:pk>/tasks/", views.customer_detail, {"section": "tasks"}, name="tasks"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/archive/", views.customer_archive, name="archive"),
    path("<int:pk>/key-persons/add/", views.key_person_add, name="key_person_add"),
    path("<int:pk>/key-persons/<int:person_pk>/edit/", views.key_person_edit, name="key_person_edit"),
    path("<int:pk>/key-persons/<int:person_pk>/archive/", views.key_person_archive, name="key_person_archive"),
    path("<int:pk>/key-persons/<int:person_pk>/reveal/<str:field>/", views.key_person_reveal, name="key_person_reveal"),
    path("<int:pk>/financials/add/", views.statement_add, name="statement_add"),
    path("<int:pk>/financials/<int:statement_pk>/edit/", views.statement_edit, name="statement_edit"),
    path("<int:pk>/relationships/add/", views.relationship_add, name="relationship_add"),
    path("<int:pk>/relationships/<int:relationship_pk>/edit/", views.relationship_edit, name="relationship_edit"),
    path(
        "<int:pk>/relationships/<int:relationship_pk>/archive/", views.relationship_archive, name="relationship_archive"
    ),
    path("<int:pk>/documents/upload/", views.document_upload, name="document_upload"),
    path("<int:pk>/documents/<int:document_pk>/download/", views.document_download, name="document_download"),
    path("<int:pk>/documents/<int:document_pk>/archive/", views.document_archive, name="document_archive"),
]
