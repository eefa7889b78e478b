//! Builds the default plugin (`plugin/`) for wasm32-wasip2 so the binary can
//! embed it: `cargo build` is the only step a new user runs. The test
//! component that misbehaves on purpose (`tests/components/misbehaving`) is
//! built in the same cargo run, for the runtime tests.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest).parent().expect("host/ lies inside the workspace");
    for dir in ["plugin", "wit", "tests/components"] {
        kinesis_wasm_build::rerun_if_changed(&workspace.join(dir));
    }
    let built = kinesis_wasm_build::build_components(
        workspace,
        &["kinesis-backup-plugin", "kinesis-misbehaving-plugin"],
    );
    println!("cargo:rustc-env=KINESIS_DEFAULT_PLUGIN_WASM={}", built[0].display());
    println!("cargo:rustc-env=KINESIS_MISBEHAVING_PLUGIN_WASM={}", built[1].display());
}
