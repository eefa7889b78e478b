//! Builds the test components of `tests/components/` for wasm32-wasip2, so
//! the black-box tests can load them (the default plugin is built by the
//! core crate).

fn main() {
    kinesis_wasm_build::embed_components(
        &["wit", "tests/components"],
        &[
            ("kinesis-misbehaving-plugin", "KINESIS_MISBEHAVING_PLUGIN_WASM"),
            ("kinesis-hostile-plugin", "KINESIS_HOSTILE_PLUGIN_WASM"),
        ],
    );
}
