//! Builds the test components of `tests/components/` for wasm32-wasip2, so
//! the black-box tests can load them (the default plugin is built by the
//! core crate).

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest).parent().expect("host/ lies inside the workspace");
    for dir in ["wit", "tests/components"] {
        kinesis_wasm_build::rerun_if_changed(&workspace.join(dir));
    }
    let built = kinesis_wasm_build::build_components(workspace, &["kinesis-misbehaving-plugin"]);
    println!("cargo:rustc-env=KINESIS_MISBEHAVING_PLUGIN_WASM={}", built[0].display());
}
