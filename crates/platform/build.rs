//! Makes binaries that link the prebuilt libduckdb find it at run time.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if std::env::var_os("CARGO_FEATURE_EMBEDDED").is_none()
        || std::env::var_os("CARGO_FEATURE_BUNDLED_DUCKDB").is_some()
    {
        return;
    }
    match std::env::var("DUCKDB_LIB_DIR") {
        Ok(dir) if std::path::Path::new(&dir).join("libduckdb.so").exists() => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
        Ok(dir) => panic!(
            "libduckdb.so not found in {dir}: run scripts/setup.sh first \
             (it fetches the prebuilt DuckDB library), or build with --features bundled-duckdb"
        ),
        Err(_) => {}
    }
}
