"""A customer relationship manager that lives inside a Wagtail site."""

__version__ = "0.1.0"
