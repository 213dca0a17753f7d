"""JSON API under /api/v1/directory: search, services, organisations, capacity."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])
