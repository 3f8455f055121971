//! Lets this crate's test binaries, which link the embedded DuckDB
//! warehouse (dev-dependency), find the prebuilt libduckdb at run time.
//! `propcast-platform`'s build script sets the rpath for its own targets
//! only: a `rustc-link-arg` reaches only the package that emits it.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR")
        && std::path::Path::new(&dir).join("libduckdb.so").exists()
    {
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
    }
}
