"""Alembic migrations of the placement schema."""
