"""Fixtures of the web tests: a shop with an agent, an underwriter, the demo catalogue."""

import pytest

from lending.models.enums import Role
from tests import factories as f
from tests.web.helpers import NOW


@pytest.fixture
def setup(app, session):
    """A shop with an agent and a token, the demo products and registry, a pinned clock."""
    from lending.services.seed import seed_reference

    seed_reference(session)
    session.commit()
    agent = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=agent.id, token="lnd_agent_token")
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    f.ApiTokenFactory(user_id=underwriter.id, token="lnd_underwriter_token")
    app.extensions["lending.clock"] = lambda: NOW
    return agent
