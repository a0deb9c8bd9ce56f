"""The demo tenant: realistic, generated data to try the API on."""
