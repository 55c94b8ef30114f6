from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dunwell.api.routes import api
from dunwell.web import account_views, portal_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", account_views.setup, name="two_factor_setup"),
    path("account/two-factor/verify", account_views.verify, name="two_factor_verify"),
    path("admin/", admin.site.urls),
    path("portal/", include("dunwell.web.portal_urls")),
    path("payments/stripe/webhook", portal_views.card_webhook, name="card_webhook"),
    path("api/", api.urls),
    path("", include("dunwell.web.urls")),
]
