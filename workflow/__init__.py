"""The engine, the sweep, the service and the admin CLI."""
