"""Cost tests reuse the admin's logged-in clients and the API's token clients."""

from tests.admin.conftest import _fresh_cache, marketer_client, operator_client, viewer_client  # noqa: F401
from tests.api.conftest import account, client_for, marketer, media_root, operator, viewer  # noqa: F401
