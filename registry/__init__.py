"""The Workforce Registry: a shared register of health clinicians across member states."""

from registry.app import create_app

__all__ = ["create_app"]
