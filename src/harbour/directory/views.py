"""Console pages for the directory: search and provider pages."""

from fastapi import APIRouter, Depends

from harbour.core.security import verify_csrf

router = APIRouter(prefix="/console/directory", dependencies=[Depends(verify_csrf)], include_in_schema=False)
