"""Local stack: patched moto server, dev server (REST + WebSocket gateway + SQS pollers)."""
