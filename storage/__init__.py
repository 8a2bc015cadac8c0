"""Tables, sessions and migrations. SQLite is the embedded default; PostgreSQL scales out."""
