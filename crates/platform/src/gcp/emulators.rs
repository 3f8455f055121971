//! Test support for running against Google's Firestore and Pub/Sub
//! emulators (`scripts/emulators.sh start` exports their addresses).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The emulator address in `var` (`FIRESTORE_EMULATOR_HOST`,
/// `PUBSUB_EMULATOR_HOST`), or `None` — the caller skips — when it is not
/// set. Panics instead when `PROPCAST_REQUIRE_EMULATORS=1`, so CI cannot
/// pass by skipping.
pub fn emulator_host(var: &str) -> Option<String> {
    if let Ok(host) = std::env::var(var)
        && !host.is_empty()
    {
        return Some(host);
    }
    if std::env::var("PROPCAST_REQUIRE_EMULATORS").as_deref() == Ok("1") {
        panic!(
            "{var} is not set and PROPCAST_REQUIRE_EMULATORS=1: start the emulators with \
             `eval \"$(scripts/emulators.sh start)\"` before the tests"
        );
    }
    eprintln!("skipped: emulators not running (start them with scripts/emulators.sh start)");
    None
}

/// An id (a project, a round) no other test or earlier run used:
/// `{prefix}-{pid}-{counter}-{nanos}`.
pub fn fresh_id(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
