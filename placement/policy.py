"""Policy rules and their enforcement, through oslo.policy.

Rule names, default check strings, deprecated defaults and scope types
are OpenStack Placement's, so an operator's policy file keeps working.
``[oslo_policy] enforce_new_defaults = False`` accepts a request that
passes either the new or the deprecated default.

Decisions are remembered per (rule, credentials, target) for at most
``DECISION_TTL`` seconds: oslo.policy re-reads the policy files' state on
every check, which costs more than the rest of a simple request, so a
changed policy file takes effect within that time instead.
"""

import time

from oslo_context import context as oslo_context
from oslo_policy import policy as oslo_policy

from placement import errors

ADMIN = 'role:admin'
SERVICE = 'role:service'

_DEPRECATED_REASON = (
    'The placement API now supports system scope and default roles.')
_DEPRECATED_SINCE = 'Wallaby'

BASE_RULES = [
    oslo_policy.RuleDefault('admin_api', ADMIN,
                            'Default rule for most placement APIs.'),
    oslo_policy.RuleDefault('service_api', SERVICE,
                            'Default rule for service-to-service APIs.'),
    oslo_policy.RuleDefault('admin_or_service_api',
                            'rule:admin_api or rule:service_api',
                            'Admin or service users.'),
    oslo_policy.RuleDefault('project_reader_api',
                            'role:reader and project_id:%(project_id)s',
                            'Readers of the project named by the target.'),
    oslo_policy.RuleDefault(
        'admin_or_project_reader_or_service_api',
        'rule:admin_api or rule:project_reader_api or rule:service_api',
        'Admin, service, or a reader of the target project.'),
]

_DEPRECATED_ADMIN = oslo_policy.DeprecatedRule(
    name='placement:deprecated_admin_api', check_str='rule:admin_api',
    deprecated_reason=_DEPRECATED_REASON, deprecated_since=_DEPRECATED_SINCE)


def _rule(name, description, operations,
          check_str='rule:admin_or_service_api'):
    return oslo_policy.DocumentedRuleDefault(
        name=name, check_str=check_str, description=description,
        operations=[{'method': m, 'path': p} for m, p in operations],
        scope_types=['project'], deprecated_rule=_DEPRECATED_ADMIN)


RP = '/resource_providers'
RP_ONE = '/resource_providers/{uuid}'

API_RULES = [
    _rule('placement:resource_providers:list', 'List resource providers.',
          [('GET', RP)]),
    _rule('placement:resource_providers:create', 'Create resource provider.',
          [('POST', RP)]),
    _rule('placement:resource_providers:show', 'Show resource provider.',
          [('GET', RP_ONE)]),
    _rule('placement:resource_providers:update', 'Update resource provider.',
          [('PUT', RP_ONE)]),
    _rule('placement:resource_providers:delete', 'Delete resource provider.',
          [('DELETE', RP_ONE)]),
    _rule('placement:resource_classes:list', 'List resource classes.',
          [('GET', '/resource_classes')]),
    _rule('placement:resource_classes:create', 'Create resource class.',
          [('POST', '/resource_classes')]),
    _rule('placement:resource_classes:show', 'Show resource class.',
          [('GET', '/resource_classes/{name}')]),
    _rule('placement:resource_classes:update', 'Update resource class.',
          [('PUT', '/resource_classes/{name}')]),
    _rule('placement:resource_classes:delete', 'Delete resource class.',
          [('DELETE', '/resource_classes/{name}')]),
    _rule('placement:resource_providers:inventories:list',
          'List resource provider inventories.',
          [('GET', RP_ONE + '/inventories')]),
    _rule('placement:resource_providers:inventories:create',
          'Create one resource provider inventory.',
          [('POST', RP_ONE + '/inventories')]),
    _rule('placement:resource_providers:inventories:show',
          'Show resource provider inventory.',
          [('GET', RP_ONE + '/inventories/{resource_class}')]),
    _rule('placement:resource_providers:inventories:update',
          'Update resource provider inventory.',
          [('PUT', RP_ONE + '/inventories'),
           ('PUT', RP_ONE + '/inventories/{resource_class}')]),
    _rule('placement:resource_providers:inventories:delete',
          'Delete resource provider inventory.',
          [('DELETE', RP_ONE + '/inventories'),
           ('DELETE', RP_ONE + '/inventories/{resource_class}')]),
    _rule('placement:resource_providers:aggregates:list',
          'List resource provider aggregates.',
          [('GET', RP_ONE + '/aggregates')]),
    _rule('placement:resource_providers:aggregates:update',
          'Update resource provider aggregates.',
          [('PUT', RP_ONE + '/aggregates')]),
    _rule('placement:resource_providers:usages',
          'List resource provider usages.',
          [('GET', RP_ONE + '/usages')]),
    _rule('placement:usages', 'List total resource usages for a project.',
          [('GET', '/usages')],
          check_str='rule:admin_or_project_reader_or_service_api'),
    _rule('placement:traits:list', 'List traits.', [('GET', '/traits')]),
    _rule('placement:traits:show', 'Show trait.',
          [('GET', '/traits/{name}')]),
    _rule('placement:traits:update', 'Update trait.',
          [('PUT', '/traits/{name}')]),
    _rule('placement:traits:delete', 'Delete trait.',
          [('DELETE', '/traits/{name}')]),
    _rule('placement:resource_providers:traits:list',
          'List resource provider traits.', [('GET', RP_ONE + '/traits')]),
    _rule('placement:resource_providers:traits:update',
          'Update resource provider traits.', [('PUT', RP_ONE + '/traits')]),
    _rule('placement:resource_providers:traits:delete',
          'Delete resource provider traits.',
          [('DELETE', RP_ONE + '/traits')]),
    _rule('placement:allocations:manage', 'Manage allocations.',
          [('POST', '/allocations')]),
    _rule('placement:allocations:list', 'List allocations.',
          [('GET', '/allocations/{consumer_uuid}')]),
    _rule('placement:allocations:update', 'Update allocations.',
          [('PUT', '/allocations/{consumer_uuid}')]),
    _rule('placement:allocations:delete', 'Delete allocations.',
          [('DELETE', '/allocations/{consumer_uuid}')]),
    _rule('placement:resource_providers:allocations:list',
          'List resource provider allocations.',
          [('GET', RP_ONE + '/allocations')]),
    _rule('placement:allocation_candidates:list',
          'List allocation candidates.',
          [('GET', '/allocation_candidates')]),
    _rule('placement:reshaper:reshape', 'Reshape inventory and allocations.',
          [('POST', '/reshaper')], check_str='rule:service_api'),
]


def list_rules():
    return BASE_RULES + API_RULES


DECISION_TTL = 1.0
_MAX_DECISIONS = 4096


def _frozen(mapping):
    """A hashable form of a flat dict whose values may be lists."""
    return tuple(sorted(
        (k, tuple(v) if isinstance(v, list) else v)
        for k, v in mapping.items()))


# The RequestContext attributes its policy values are made of.
_CREDENTIALS = ('user_id', 'user_domain_id', 'system_scope', 'domain_id',
                'project_id', 'project_domain_id', 'roles',
                'is_admin_project', 'service_user_id',
                'service_user_domain_id', 'service_project_id',
                'service_project_domain_id', 'service_roles')


def _credentials_key(context):
    """A hashable form of ``context.to_policy_values()``, read from the
    attributes directly (building that mapping costs more)."""
    if type(context).to_policy_values is not _BASE_POLICY_VALUES:
        return _frozen(context.to_policy_values())
    return tuple(tuple(v) if isinstance(v, list) else v
                 for v in map(context.__getattribute__, _CREDENTIALS))


_BASE_POLICY_VALUES = oslo_context.RequestContext.to_policy_values


class Policy:
    """The enforcer of one application instance."""

    def __init__(self, conf):
        self.enforcer = oslo_policy.Enforcer(conf)
        self.enforcer.suppress_deprecation_warnings = True
        self.enforcer.suppress_default_change_warnings = True
        self.enforcer.register_defaults(list_rules())
        self.enforcer.load_rules()
        self._decisions = {}
        self._decisions_expire = 0.0

    def _decide(self, context, action, target):
        try:
            return self.enforcer.authorize(action, target, context,
                                           do_raise=False)
        except oslo_policy.InvalidScope:
            return False

    def authorize(self, context, action, target=None):
        if target is None:
            target = {'project_id': context.project_id,
                      'user_id': context.user_id}
        now = time.monotonic()
        if now >= self._decisions_expire or \
                len(self._decisions) > _MAX_DECISIONS:
            self._decisions = {}
            self._decisions_expire = now + DECISION_TTL
        try:
            key = (action, _frozen(target), _credentials_key(context))
            hash(key)
        except TypeError:
            key = None
        allowed = self._decisions.get(key) if key is not None else None
        if allowed is None:
            allowed = bool(self._decide(context, action, target))
            if key is not None:
                self._decisions[key] = allowed
        if not allowed:
            raise errors.HTTPError(
                403, 'Policy does not allow %s to be performed.' % action)
