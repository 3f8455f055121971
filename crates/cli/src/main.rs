//! The `propcast` binary: parse the command line, start tracing, run.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = propcast::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The trace exporter's channel runs on the runtime: start it there.
    let telemetry = match runtime.block_on(async { propcast::cli::init_telemetry(&cli) }) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(propcast::cli::execute(cli));
    // Flush the last spans while the runtime still runs.
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
