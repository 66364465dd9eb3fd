"""The Admin API family (`/admin/api/v1/...`, docs/ADMIN_API.md).

Register with `app.register_blueprint(admin_api)`. Importing the package imports every
`routes_*.py` module in it, and each module registers its actions in `http.ACTIONS`.
"""
import importlib
import pkgutil

from chalicelib.api.admin.http import ACTIONS, admin_api

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("routes_")):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["admin_api", "ACTIONS"]
