//! Lets the `propcast` binary and its tests find the prebuilt libduckdb
//! (fetched by scripts/setup.sh) at run time: a `rustc-link-arg` reaches
//! only the package that emits it, so each package linking DuckDB says so.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR")
        && std::path::Path::new(&dir).join("libduckdb.so").exists()
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
