//! Builds the default plugin (`plugin/`) for wasm32-wasip2 so that the core
//! can embed it: `cargo build` is the only step a new user runs.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest).parent().expect("core/ lies inside the workspace");
    for dir in ["plugin", "wit"] {
        kinesis_wasm_build::rerun_if_changed(&workspace.join(dir));
    }
    let built = kinesis_wasm_build::build_components(workspace, &["kinesis-backup-plugin"]);
    println!("cargo:rustc-env=KINESIS_DEFAULT_PLUGIN_WASM={}", built[0].display());
}
