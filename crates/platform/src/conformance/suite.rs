//! The macros that generate a backend's conformance tests from one factory,
//! after quickwit's `metastore_test_suite!`: a new backend gets every test of
//! a trait by one macro call in its test file.
//!
//! ```ignore
//! propcast_platform::warehouse_test_suite!(duckdb_in_memory, |_home| async {
//!     Some(DuckDbWarehouse::in_memory().expect("open"))
//! });
//! ```
//!
//! The first argument names the module the tests go in; the factory gets a
//! [`Home`] and returns `Option<backend>`, `None` skipping the test (an
//! emulator that is not running). The state store and event bus suites take
//! a third argument, the sizes and timings the backend is tested with
//! ([`StateStoreSizes`], [`BusTimings`]). The generated tests run on tokio:
//! the calling crate depends on `tokio` with `macros` and `rt-multi-thread`.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Where one test's backend lives: a fresh directory (removed when the test
/// ends) and a fresh id (a project, a database). A factory called twice with
/// the same home opens two handles on one store.
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
    pub id: String,
}

/// The temporary directory behind a [`Home`]; keep it for the whole test.
pub struct HomeGuard {
    _dir: tempfile::TempDir,
    home: Home,
}

impl HomeGuard {
    /// A fresh directory and an id no other test or earlier run used
    /// (`propcast-{pid}-{counter}-{nanos}`, valid as a Google project id).
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().expect("temporary directory");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let serial = N.fetch_add(1, Ordering::Relaxed);
        let home = Home {
            dir: dir.path().to_path_buf(),
            id: format!("propcast-{}-{serial}-{nanos}", std::process::id()),
        };
        HomeGuard { _dir: dir, home }
    }

    pub fn home(&self) -> Home {
        self.home.clone()
    }
}

impl Default for HomeGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// Calls a backend factory (the macros go through here so a closure's
/// argument type needs no annotation).
pub async fn open<B, F, Fut>(home: Home, factory: F) -> Option<B>
where
    F: FnOnce(Home) -> Fut,
    Fut: Future<Output = Option<B>>,
{
    factory(home).await
}

/// How hard the state store suite pushes concurrent transactions.
#[derive(Debug, Clone, Copy)]
pub struct StateStoreSizes {
    /// Transactions started at once on one counter, one increment each.
    pub at_once: usize,
    /// Tasks that each increment `per_task` times in a row.
    pub tasks: usize,
    pub per_task: usize,
    /// Increments by each of two handles on one store.
    pub per_handle: usize,
}

/// The event bus suite's ack deadline and dead-letter attempts (the backend's
/// minimums: Pub/Sub takes a 10 s deadline and 5 attempts at least).
#[derive(Debug, Clone, Copy)]
pub struct BusTimings {
    pub ack_deadline: Duration,
    pub max_attempts: u32,
}

/// One conformance test: a fresh home, the backend from the factory (or a
/// skip), the suite function on it.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($(#[$attr:meta])* $test:ident, $factory:expr, |$backend:ident, $home:ident| $body:expr) => {
        $(#[$attr])*
        async fn $test() {
            let guard = $crate::conformance::suite::HomeGuard::new();
            let $home = guard.home();
            let Some($backend) =
                $crate::conformance::suite::open($home.clone(), $factory).await
            else {
                return;
            };
            $body;
        }
    };
}

/// Every [`Warehouse`](crate::Warehouse) conformance test for one backend.
#[macro_export]
macro_rules! warehouse_test_suite {
    ($name:ident, $factory:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance as c;

            $crate::__conformance_test!(
                #[tokio::test]
                replace_partition_is_idempotent,
                $factory,
                |wh, _home| c::warehouse_replace_partition_is_idempotent(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                replace_dates_replaces_exactly_those_dates,
                $factory,
                |wh, _home| c::warehouse_replace_dates_replaces_exactly_those_dates(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                replace_partition_respects_scope,
                $factory,
                |wh, _home| c::warehouse_replace_partition_respects_scope(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                merge_upserts_by_key,
                $factory,
                |wh, _home| c::warehouse_merge_upserts_by_key(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                bad_value_rolls_back,
                $factory,
                |wh, _home| c::warehouse_bad_value_rolls_back(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                values_round_trip,
                $factory,
                |wh, _home| c::warehouse_values_round_trip(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                aggregates_are_numbers,
                $factory,
                |wh, _home| c::warehouse_aggregates_are_numbers(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                bad_query_is_an_error,
                $factory,
                |wh, _home| c::warehouse_bad_query_is_an_error(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                query_with_typed_params,
                $factory,
                |wh, _home| c::warehouse_query_with_typed_params(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                lists_tables,
                $factory,
                |wh, _home| c::warehouse_lists_tables(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                large_write_round_trips,
                $factory,
                |wh, _home| c::warehouse_large_write_round_trips(&wh).await
            );
            $crate::__conformance_test!(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                whole_suite_on_one_backend_multi_thread,
                $factory,
                |wh, _home| c::warehouse_all(&wh).await
            );
        }
    };
}

/// Every [`LandingZone`](crate::LandingZone) conformance test for one
/// backend; the factory returns a zone holding
/// [`LANDING_FIXTURE`](crate::conformance::LANDING_FIXTURE).
#[macro_export]
macro_rules! landing_zone_test_suite {
    ($name:ident, $factory:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance as c;

            $crate::__conformance_test!(
                #[tokio::test]
                lists_and_gets,
                $factory,
                |zone, _home| c::landing_lists_and_gets(&zone).await
            );
        }
    };
}

/// Every [`StateStore`](crate::StateStore) conformance test for one backend,
/// pushed as hard as `$sizes` ([`StateStoreSizes`]) says.
#[macro_export]
macro_rules! state_store_test_suite {
    ($name:ident, $factory:expr, $sizes:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance as c;
            use std::sync::Arc;

            fn sizes() -> $crate::conformance::suite::StateStoreSizes {
                $sizes
            }

            $crate::__conformance_test!(#[tokio::test] documents_crud, $factory,
                |store, _home| c::state_documents_crud(&store).await);
            $crate::__conformance_test!(#[tokio::test] transaction_decisions, $factory,
                |store, _home| c::state_transaction_decisions(&store).await);
            $crate::__conformance_test!(
                /// Many transactions at once on one counter: a backend that
                /// aborts the losers of a conflict re-runs them, and no
                /// increment is lost.
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                concurrent_transactions_on_one_counter, $factory,
                |store, _home| c::state_transactions_serialize(Arc::new(store), sizes().at_once, 1).await);
            $crate::__conformance_test!(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                transactions_serialize_across_tasks, $factory,
                |store, _home| {
                    let s = sizes();
                    c::state_transactions_serialize(Arc::new(store), s.tasks, s.per_task).await
                });
            $crate::__conformance_test!(
                /// Two handles (own connections, own runtimes, own threads)
                /// on one store.
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                transactions_serialize_across_handles, $factory,
                |a, home| {
                    let b = $crate::conformance::suite::open(home, $factory)
                        .await
                        .expect("a second handle on the same store");
                    c::state_transactions_serialize_across_handles(
                        Arc::new(a), Arc::new(b), sizes().per_handle,
                    )
                    .await
                });
        }
    };
}

/// Every [`EventBus`](crate::EventBus) conformance test for one backend,
/// with the ack deadline and attempts of `$timings` ([`BusTimings`]).
#[macro_export]
macro_rules! event_bus_test_suite {
    ($name:ident, $factory:expr, $timings:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance as c;

            fn timings() -> $crate::conformance::suite::BusTimings {
                $timings
            }

            $crate::__conformance_test!(
                #[tokio::test]
                unknown_names,
                $factory,
                |bus, _home| c::bus_unknown_names(&bus).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                fan_out_and_ack,
                $factory,
                |bus, _home| c::bus_fan_out_and_ack(&bus, timings().ack_deadline).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                redelivery_and_nack,
                $factory,
                |bus, _home| c::bus_redelivery_and_nack(&bus, timings().ack_deadline).await
            );
            $crate::__conformance_test!(
                #[tokio::test]
                dead_letter_after_max_attempts,
                $factory,
                |bus, _home| {
                    let t = timings();
                    c::bus_dead_letter_after_max_attempts(&bus, t.ack_deadline, t.max_attempts)
                        .await
                }
            );
        }
    };
}
