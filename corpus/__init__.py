"""Text in → typed records: data model, loaders, the seed's challenge catalogue, demo data."""
