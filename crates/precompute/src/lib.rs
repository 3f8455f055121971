//! Phase 4 precompute.
