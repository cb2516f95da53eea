"""What the handlers of a provider's sub-resources (inventories, traits,
aggregates) share: finding the provider named in the URL, reading a
write's body, and checking the provider generation the write names."""

from placement import errors
from placement.api import jsonio
from placement.objects import claim
from placement.objects import resource_provider as rp_obj

GENERATION_CHANGED = ("Resource provider's generation already changed. "
                      "Please update the generation and try again.")


def check_uuid(uuid):
    """Raises ResourceProviderNotFound, without a query, for a string
    that cannot name a provider."""
    if not rp_obj.may_exist(uuid):
        raise errors.ResourceProviderNotFound(uuid=uuid)


def get_provider(conn, uuid, for_update=False):
    """The provider ``uuid`` from the URL, locked with ``for_update``,
    else read as a client about to write with its generation should read
    it (``resource_provider.find_by_uuid``, ``waiting``); raises
    ResourceProviderNotFound."""
    return rp_obj.get_by_uuid(conn, uuid, for_update,
                              waiting=not for_update)


def claim_and_set_aggregates(conn, uuid, generation, aggregate_uuids):
    """Claim the provider ``uuid`` from the URL at ``generation`` and
    replace its aggregates (``claim.claim_and_set_aggregates``)."""
    check_uuid(uuid)
    return claim.claim_and_set_aggregates(
        conn, uuid, generation, aggregate_uuids, GENERATION_CHANGED)


def claim_and_set_traits(conn, uuid, names, generation):
    """Claim the provider ``uuid`` from the URL at ``generation`` and
    replace its traits (``claim.claim_and_set_traits``)."""
    check_uuid(uuid)
    return claim.claim_and_set_traits(conn, uuid, generation, names,
                                      GENERATION_CHANGED)


def set_aggregates_unclaimed(conn, uuid, aggregate_uuids):
    """Replace the aggregates of the provider ``uuid`` from the URL without
    touching its generation
    (``claim.set_aggregates_unclaimed``)."""
    check_uuid(uuid)
    return claim.set_aggregates_unclaimed(conn, uuid, aggregate_uuids)


def read_body(req, db, uuid, schema):
    """The request's JSON body validated against ``schema``.

    A bad body sent to a provider that does not exist is answered 404,
    as OpenStack Placement looks the provider up first.
    """
    try:
        return jsonio.read(req, schema)
    except errors.HTTPError as exc:
        if exc.status == 400:
            db.read(get_provider, uuid)
        raise
