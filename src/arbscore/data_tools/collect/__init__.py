"""Collection: ccxt backfill, live snapshots and bulk-file import into the market store."""
