"""Shared request types: ids that fit the database's integer columns."""

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_DB_ID = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
