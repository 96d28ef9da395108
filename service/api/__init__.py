"""The HTTP API: `create_app(settings)` assembles one router per subsystem over the library."""
