"""Resource provider create, show and list."""

import uuid

from placement_bench.scenarios.base import register


def _create_job(ctx, run_id, created):
    def job(client, index):
        provider_uuid = str(uuid.uuid4())
        resp = client.request(
            'POST', '/resource_providers',
            {'uuid': provider_uuid, 'name': 'bench-%s-%d' % (run_id, index)},
            version=ctx.version, label='POST /resource_providers')
        if resp.ok:
            created.append(provider_uuid)
    return job


def ensure_providers(ctx):
    """Providers made by ``create`` in this service start, or as many
    made now (untimed)."""
    providers = ctx.state.setdefault('providers', [])
    if not providers:
        result = ctx.measure_jobs(ctx.options.clients, ctx.options.providers,
                                  _create_job(ctx, 'setup', providers))[1]
        if not providers:
            raise RuntimeError('could not create any provider: %s'
                               % result.recorder.error_samples)
    return providers


@register('create', 'POST /resource_providers with a new uuid and name',
          throughput='ops_per_s')
def create(ctx):
    created = ctx.state.setdefault('providers', [])
    before = len(created)
    figures, _ = ctx.measure_jobs(
        ctx.options.clients, ctx.options.providers,
        _create_job(ctx, uuid.uuid4().hex[:8], created))
    figures['failed'] = figures['ops'] - (len(created) - before)
    return figures


@register('show', 'GET /resource_providers/{uuid} of existing providers',
          throughput='ops_per_s')
def show(ctx):
    providers = ensure_providers(ctx)
    failures = []

    def job(client, index):
        wanted = providers[index % len(providers)]
        resp = client.request('GET', '/resource_providers/%s' % wanted,
                              version=ctx.version,
                              label='GET /resource_providers/{uuid}')
        if not resp.ok:
            failures.append(resp.status)
        elif (resp.json() or {}).get('uuid') != wanted:
            failures.append('wrong provider')

    figures, _ = ctx.measure_jobs(ctx.options.clients, ctx.options.reads,
                                  job)
    figures['failed'] = len(failures)
    return figures


@register('list', 'GET /resource_providers (every provider made so far)',
          throughput='ops_per_s')
def list_all(ctx):
    providers = ensure_providers(ctx)
    failures, wrong = [], []

    def job(client, _index):
        resp = client.request('GET', '/resource_providers',
                              version=ctx.version,
                              label='GET /resource_providers')
        if not resp.ok:
            failures.append(resp.status)
            return
        listed = (resp.json() or {}).get('resource_providers') or []
        if len(listed) < len(providers):
            wrong.append(len(listed))

    figures, _ = ctx.measure_jobs(ctx.options.clients, ctx.options.lists,
                                  job)
    figures.update(failed=len(failures), wrong_answers=len(wrong),
                   providers_listed=len(providers))
    return figures
