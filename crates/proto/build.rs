//! Compiles `proto/` at the workspace root with `protox` (pure Rust, no system
//! `protoc`) and generates prost messages plus tonic clients and servers.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "propcast/v1/events.proto",
    "propcast/v1/prediction_worker.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }

    let fds = protox::compile(PROTOS, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
