"""Klip-compatible families: Partners (card minting), App2App, and the approval page.

Register in app.py::

    from chalicelib.api.klip import a2a_api, approval_page, partners_api
    app.register_blueprint(partners_api)
    app.register_blueprint(a2a_api)
    app.register_blueprint(approval_page)
    app.api.binary_types.append("multipart/form-data")   # Partners image upload
"""
from chalicelib.api.klip.a2a import a2a_api
from chalicelib.api.klip.approval_page import approval_page
from chalicelib.api.klip.partners import partners_api

__all__ = ["a2a_api", "approval_page", "partners_api"]
