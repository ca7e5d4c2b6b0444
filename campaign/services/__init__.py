"""Business rules and every mutation. Services flush; the request boundary commits."""
