"""The admin: the marketer's and operator's UI over the domain.

One module per area: accounts, audience (lists and contacts), imports (CSV upload → mapping
→ job), opt-outs, campaigns (the builder, its buttons and live progress), reports, the
message tables, and webhook endpoints with their delivery log. Secrets never render and
answer no lookup (base.py, with Django's own user, group and token admins registered again
in third_party.py); pages over big tables use aggregates and streams.
"""

from campaigns.admin import (  # noqa: F401
    accounts,
    audience,
    campaigns,
    imports,
    messages,
    optouts,
    prices,  # noqa: F401  (segment prices; inline on the account page)
    routes,
    third_party,
    webhooks,
)
