from django.contrib.admin.apps import AdminConfig


class ContraAdminConfig(AdminConfig):
    default_site = "config.admin.ContraAdminSite"
