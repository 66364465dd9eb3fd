"""Adapters to outside systems other than the table: WebSocket pushes, queues, custody, mail."""
