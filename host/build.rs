//! Builds the test components of `tests/components/` for wasm32-wasip2, and
//! the default plugin against contract 1.0.0, so the black-box tests can
//! load them (the default plugin itself is built by the core crate).

fn main() {
    kinesis_wasm_build::embed_components(
        &["wit", "tests/components"],
        &[
            ("kinesis-misbehaving-plugin", "KINESIS_MISBEHAVING_PLUGIN_WASM"),
            ("kinesis-hostile-plugin", "KINESIS_HOSTILE_PLUGIN_WASM"),
            ("kinesis-hostile-parts-plugin", "KINESIS_HOSTILE_PARTS_PLUGIN_WASM"),
        ],
    );
    kinesis_wasm_build::embed_component_with(
        &["plugin", "wit"],
        "kinesis-backup-plugin",
        &["kinesis-backup-plugin/contract-1-0"],
        "wasm-contract-1.0.0",
        "KINESIS_PLUGIN_V1_0_0_WASM",
    );
}
