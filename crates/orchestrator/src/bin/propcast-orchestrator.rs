//! `propcast-orchestrator`: the phase transitions 2→3, 3→4 and 4→5 as a
//! service on the embedded state store and event bus of a data directory.
//!
//! It consumes the completion events every processor publishes (topic
//! `processor-completions`), records each in its per-date state document
//! inside a transaction, and publishes `phase{3,4,5}-trigger` exactly once
//! per date, mode and round; every minute it also fires the 4→5 dates whose
//! tiered timeout is reached. `propcast run`/`backfill` run the same
//! orchestrator in process; this binary is for a deployment where the
//! phases are separate services.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use propcast_orchestrator::Orchestrator;
use propcast_platform::embedded::{STATE_FILE, SqliteEventBus, SqliteStateStore};

/// Consume completion events and fire the phase transitions (2→3, 3→4,
/// 4→5) exactly once per date, mode and round.
#[derive(Debug, Parser)]
#[command(name = "propcast-orchestrator", version)]
struct Args {
    /// Data directory whose state.sqlite holds the state store and the event bus.
    #[arg(long, env = "PROPCAST_DATA_DIR", default_value = "propcast-data")]
    data_dir: PathBuf,
    /// Handle what is waiting, sweep the timeouts once, and exit.
    #[arg(long)]
    once: bool,
    /// Pause between polls of an empty subscription, in milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Seconds between sweeps of the 4→5 tiered timeouts.
    #[arg(long, default_value_t = 60)]
    timeout_sweep_secs: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    // Only the state file: the warehouse stays free for the phase services.
    let file = args.data_dir.join(STATE_FILE);
    let hint = |e: &dyn std::fmt::Display| {
        format!(
            "opening {}: {e} (pass --data-dir with the folder propcast runs on)",
            file.display()
        )
    };
    std::fs::create_dir_all(&args.data_dir).map_err(|e| hint(&e))?;
    let state = SqliteStateStore::open(&file).map_err(|e| hint(&e))?;
    let bus = SqliteEventBus::open(&file).map_err(|e| hint(&e))?;
    let orchestrator = Orchestrator::new(Arc::new(state), Arc::new(bus));
    let orchestrator = Arc::new(orchestrator);
    orchestrator.ensure_subscription().await?;
    let sweep_every = Duration::from_secs(args.timeout_sweep_secs);
    let mut last_sweep: Option<Instant> = None;
    loop {
        let drained = orchestrator.drain().await?;
        for fired in &drained.fired {
            println!(
                "fired {} {} {} ({})",
                fired.key.transition, fired.key.game_date, fired.key.mode, fired.reason
            );
        }
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            let sweep = orchestrator.check_timeouts(chrono::Utc::now()).await?;
            for fired in &sweep.fired {
                println!(
                    "fired {} {} {} ({})",
                    fired.key.transition, fired.key.game_date, fired.key.mode, fired.reason
                );
            }
            for (doc, error) in &sweep.failed {
                eprintln!("timeout sweep: {doc}: {error} (retried on the next sweep)");
            }
            last_sweep = Some(Instant::now());
        }
        if args.once {
            return Ok(());
        }
        if drained.handled == 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(args.poll_ms)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    }
}
