//! The wall clock, in the one unit every layer stores: Unix milliseconds.

/// Milliseconds since the Unix epoch (0 if the clock is before it). The
/// journal never lets its own timestamps go backwards (docs/FORMAT.md A9);
/// other users take it as it is.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
