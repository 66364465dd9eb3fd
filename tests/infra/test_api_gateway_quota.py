"""API Gateway REST APIs allow 300 resources by default; Chalice makes one per path segment."""


def resources(routes):
    segments = {"/"}
    for path in routes:
        parts = path.strip("/").split("/")
        segments.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return segments


def test_the_app_fits_in_api_gateways_default_quota_of_300_resources():
    from app import app

    assert len(resources(app.routes)) <= 300
