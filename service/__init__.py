"""The faces of jiebang: the `jiebang` CLI and the HTTP API, thin layers over the library."""
