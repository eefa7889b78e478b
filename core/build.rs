//! Builds the default plugin (`plugin/`) for wasm32-wasip2 so that the core
//! can embed it: `cargo build` is the only step a new user runs.

fn main() {
    kinesis_wasm_build::embed_components(
        &["plugin", "wit"],
        &[("kinesis-backup-plugin", "KINESIS_DEFAULT_PLUGIN_WASM")],
    );
}
