"""The HTTP edge: FastAPI routers that parse, authorize and call one service."""
