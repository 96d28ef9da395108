"""What a user does, assembled once for both faces (the CLI and the API)."""
