"""OAuth2 grants, clients, API accounts, tokens and the bearer dependency."""
