"""JSON API under /api/v1/directory/referrals."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/directory/referrals", tags=["referrals"])
