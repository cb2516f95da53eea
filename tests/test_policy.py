"""placement/policy.py: decisions are remembered per credentials, and
the remembered decision of one set of credentials never answers for
another."""

from oslo_context import context as oslo_context
import pytest

from placement import conf as conf_mod
from placement import errors
from placement import policy


def context(**values):
    return oslo_context.RequestContext(**values)


def test_credentials_key_covers_every_policy_value():
    values = context(user_id='u', project_id='p',
                     roles=['reader']).to_policy_values()
    assert sorted(policy._CREDENTIALS) == sorted(values)


@pytest.mark.parametrize('name', policy._CREDENTIALS)
def test_credentials_key_changes_with_each_value(name):
    base = context(user_id='u', project_id='p', roles=['reader'])
    changed = context(user_id='u', project_id='p', roles=['reader'])
    value = True if name == 'is_admin_project' else 'other'
    if name in ('roles', 'service_roles'):
        value = ['other']
    if name == 'is_admin_project':
        base.is_admin_project = False
    setattr(changed, name, value)
    assert policy._credentials_key(base) != policy._credentials_key(changed)
    hash(policy._credentials_key(changed))


def test_remembered_decision_is_per_credentials():
    conf = conf_mod.load([], config_files=[])
    enforcer = policy.Policy(conf)
    admin = context(user_id='admin', project_id='admin', roles=['admin'])
    member = context(user_id='bob', project_id='admin', roles=['member'])
    rule = 'placement:resource_providers:create'
    enforcer.authorize(admin, rule)
    with pytest.raises(errors.HTTPError):
        enforcer.authorize(member, rule)
    # And the other way round, with the refusal remembered first.
    fresh = policy.Policy(conf)
    with pytest.raises(errors.HTTPError):
        fresh.authorize(member, rule)
    fresh.authorize(admin, rule)
