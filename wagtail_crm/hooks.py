"""Every Wagtail hook of the CRM: menus, viewsets, panels, bulk actions."""
