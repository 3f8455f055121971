//! The `propcast` binary: parse the command line, start tracing, run.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = propcast::cli::Cli::parse();
    if matches!(cli.command, propcast::cli::Command::Serve { .. }) {
        propcast::cli::init_json_tracing();
    } else {
        propcast::cli::init_tracing(cli.verbose);
    }
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
    match runtime.block_on(propcast::cli::execute(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
