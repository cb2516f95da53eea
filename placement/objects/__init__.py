"""The data layer: SQL for each noun and the generation rules.

Functions take an open SQLAlchemy connection inside a transaction (see
``placement.db.database.Database``) and raise ``placement.errors`` domain
exceptions.  They never commit: the caller's transaction does.
"""
