//! `propcast-orchestrator`: the phase transitions 2→3, 3→4 and 4→5 as a
//! service on the configured state store and event bus (the embedded
//! state.sqlite of a data directory by default; `--state firestore://…`,
//! `--bus pubsub://…`, PROPCAST_* or propcast.toml as for `propcast`).
//!
//! It consumes the completion events every processor publishes (topic
//! `processor-completions`), records each in its per-date state document
//! inside a transaction, and publishes `phase{3,4,5}-trigger` exactly once
//! per date, mode and round; every minute it also fires the 4→5 dates whose
//! tiered timeout is reached (see [`propcast_orchestrator::serve`]). It
//! stops cleanly on SIGINT or SIGTERM. `propcast run`/`backfill` run the
//! same orchestrator in process; this binary is for a deployment where the
//! phases are separate services.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use propcast_orchestrator::{Orchestrator, ServeOptions, serve};
use propcast_platform::{Config, Coordination, Layers, Settings};

/// Consume completion events and fire the phase transitions (2→3, 3→4,
/// 4→5) once per date, mode and round.
#[derive(Debug, Parser)]
#[command(name = "propcast-orchestrator", version)]
struct Args {
    /// Configuration file [default: ./propcast.toml when present] [env PROPCAST_CONFIG].
    #[arg(long, env = "PROPCAST_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory whose state.sqlite holds the embedded state store and
    /// event bus [default: propcast-data] [env PROPCAST_DATA_DIR].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// State store: sqlite://PATH or firestore://PROJECT[/DATABASE] [env PROPCAST_STATE].
    #[arg(long, value_name = "URI")]
    state: Option<String>,
    /// Event bus: sqlite://PATH or pubsub://PROJECT [env PROPCAST_BUS].
    #[arg(long, value_name = "URI")]
    bus: Option<String>,
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
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::resolve(
        &Layers {
            file: args.config.clone(),
            ..Layers::default()
        },
        &Settings {
            data_dir: args.data_dir.as_ref().map(|p| p.display().to_string()),
            state: args.state.clone(),
            bus: args.bus.clone(),
            ..Settings::default()
        },
    )?;
    // Only the state store and the bus: the warehouse stays free for the
    // phase services.
    let backends = Coordination::open(&config).await?;
    let orchestrator = Orchestrator::new(backends.state, backends.bus);
    let options = ServeOptions {
        poll: Duration::from_millis(args.poll_ms),
        timeout_sweep_every: Duration::from_secs(args.timeout_sweep_secs),
        once: args.once,
    };
    let report = serve(&orchestrator, options, shutdown_signal()?).await?;
    for fired in &report.fired {
        println!(
            "fired {} {} {} ({})",
            fired.key.transition, fired.key.game_date, fired.key.mode, fired.reason
        );
    }
    for letter in &report.dead_letters {
        println!(
            "dead-lettered {} {}: {}",
            letter.subscription, letter.message_id, letter.reason
        );
    }
    Ok(())
}

/// Completes on the first SIGINT or SIGTERM.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "shutdown requested"),
            _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutdown requested"),
        }
    })
}
