"""Front-end URLs of the CRM (namespace ``wagtail_crm``).

A site includes them before Wagtail's catch-all::

    path("support/", include("wagtail_crm.urls")),
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import portal

app_name = "wagtail_crm"

urlpatterns = [
    path("", portal.TicketListView.as_view(), name="portal_tickets"),
    path("tickets/new/", portal.TicketCreateView.as_view(), name="portal_ticket_add"),
    path("tickets/<int:pk>/", portal.TicketDetailView.as_view(), name="portal_ticket"),
    path("credit/", portal.CreditView.as_view(), name="portal_credit"),
    # Django's own login and logout, for sites without a login page of their own
    # (LOGIN_URL = "wagtail_crm:portal_login").
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="wagtail_crm/portal/login.html",
            next_page=reverse_lazy("wagtail_crm:portal_tickets"),
            redirect_authenticated_user=True,
        ),
        name="portal_login",
    ),
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page=reverse_lazy("wagtail_crm:portal_login")),
        name="portal_logout",
    ),
]
