"""Imports every domain's models so Base.metadata knows all tables (Alembic, key rotation)."""

from harbour.core import models as core_models  # noqa: F401
from harbour.core.db import Base
from harbour.directory import models as directory_models  # noqa: F401
from harbour.hotline import models as hotline_models  # noqa: F401
from harbour.hotline.chat import models as chat_models  # noqa: F401
from harbour.plan import models as plan_models  # noqa: F401
from harbour.sharing import models as sharing_models  # noqa: F401
from harbour.stats import models as stats_models  # noqa: F401

metadata = Base.metadata
