"""Reference data shared by all tenants: languages and countries."""
