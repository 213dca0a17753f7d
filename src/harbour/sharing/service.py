"""The sharing service's public face: one import for routes, the CLI and other domains.

Rules live in the modules named below; this file only gathers them:

* :mod:`harbour.sharing.access` — who the viewer is (``agency_of``, ``viewer``) and THE gate ``require``;
* :mod:`harbour.sharing.agencies` — agencies and memberships (administrators);
* :mod:`harbour.sharing.ingest` — CSV/JSON ingest with row reports, idempotent upsert;
* :mod:`harbour.sharing.agreements` — data-sharing agreements and their status;
* :mod:`harbour.sharing.records` — reading own records, and other agencies' through the gate;
* :mod:`harbour.sharing.linking` — model versions, relinking, matches, entities, PPRL submissions;
* :mod:`harbour.sharing.hits` — hits, disclosure requests, what each level reveals;
* :mod:`harbour.sharing.rls` — PostgreSQL row-level security settings and the application role.
"""

from harbour.sharing.access import agency_of, effective_status, level, require, viewer  # noqa: F401
from harbour.sharing.agencies import (  # noqa: F401
    add_member,
    create_agency,
    get_agency,
    list_agencies,
    members,
    remove_member,
    set_agency_active,
    update_agency,
)
from harbour.sharing.agreements import as_read, create_agreement, get_agreement, list_agreements, set_status  # noqa: F401
from harbour.sharing.hits import (  # noqa: F401
    decide,
    decision_level,
    disclosure,
    get_hit,
    get_request,
    hit_view,
    inbox,
    mark,
    request_choices,
    request_disclosure,
    requests_for,
    withdraw,
)
from harbour.sharing.ingest import batches, get_batch, ingest, ingest_csv, read_csv  # noqa: F401
from harbour.sharing.linking import (  # noqa: F401
    activate_model,
    active_model,
    list_models,
    pprl_submissions,
    refresh_hits,
    relink,
    relink_quietly,
    submit_pprl,
    train_model,
)
from harbour.sharing.records import counts, list_own, other_record, own_record  # noqa: F401
