//! Embedded backends: DuckDB warehouse, SQLite state store and event bus,
//! local-directory landing zone.
