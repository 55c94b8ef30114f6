from django.urls import path

from dunwell.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("aging/", views.aging_report, name="aging"),
    path("import/", views.import_file, name="import"),
]
