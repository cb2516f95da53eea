"""Database access: table definitions, engines and transactions."""
