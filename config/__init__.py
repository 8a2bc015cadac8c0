"""Typed settings and the default, versioned rule data."""
