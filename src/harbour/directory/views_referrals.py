"""Referral pages: refer from a case (console) and the provider portal."""

from fastapi import APIRouter, Depends

from harbour.core.security import verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
