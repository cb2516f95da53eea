"""Console entry points: placement-api, placement-manage, placement-status."""
