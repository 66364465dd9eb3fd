"""Use cases. Importing any of them wires the event relay into every commit that emits events."""
from chalicelib.services import events as _events  # noqa: F401  (registers the post-commit relay)
