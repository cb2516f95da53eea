"""placement: a fast implementation of the OpenStack Placement API."""
