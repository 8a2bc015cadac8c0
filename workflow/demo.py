"""`pal demo`: placeholder replaced below."""
