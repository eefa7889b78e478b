//! Build-script helper: builds a crate of this workspace as a
//! `wasm32-wasip2` component, so that `cargo build` of the host (or of the
//! tests) produces the plugin without a separate step.
//!
//! The nested cargo uses its own target directory (`target/wasm`) so it never
//! waits on the lock of the outer build, and adds the `wasm32-wasip2` target
//! through rustup when the toolchain lacks it (rustup only installs the
//! targets of `rust-toolchain.toml` when it installs the toolchain itself).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every component is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds `packages` (members of the workspace rooted at `workspace`) for
/// `wasm32-wasip2` in release mode, in one cargo run, and returns the paths
/// of their `.wasm` files in the same order.
///
/// Panics with a message that says what to do when the build fails: build
/// scripts report errors by panicking.
pub fn build_components(workspace: &Path, packages: &[&str]) -> Vec<PathBuf> {
    build_components_with(workspace, packages, &[], "wasm")
}

/// Builds `packages` like [`build_components`], with cargo `features`
/// (`package/feature`) on, in `target/<target_subdir>` so that builds with
/// different features never replace each other's files.
pub fn build_components_with(
    workspace: &Path,
    packages: &[&str],
    features: &[&str],
    target_subdir: &str,
) -> Vec<PathBuf> {
    ensure_target_installed(workspace);
    let target_dir = workspace.join("target").join(target_subdir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args(["build", "--release", "--target", TARGET]);
    for package in packages {
        cmd.args(["-p", package]);
    }
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    cmd.arg("--target-dir").arg(&target_dir);
    // The outer build's settings are for the host target, not for wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    // SIMD makes the compression and hashing loops faster; every wasmtime
    // version this host supports enables simd128.
    cmd.env("CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS", "-C target-feature=+simd128");
    let status = cmd.status().unwrap_or_else(|e| panic!("could not run cargo to build {packages:?}: {e}"));
    if !status.success() {
        panic!("building {packages:?} for {TARGET} failed (see the cargo output above)");
    }
    packages
        .iter()
        .map(|package| {
            let file = target_dir.join(TARGET).join("release").join(format!("{}.wasm", package.replace('-', "_")));
            if !file.exists() {
                panic!("cargo built {package} but {} is missing", file.display());
            }
            file
        })
        .collect()
}

/// For a build script: builds `components` (package, environment variable)
/// of the workspace around the calling crate, reruns when `watch` folders
/// change, and hands each `.wasm` path to the crate as its variable
/// (`env!("VARIABLE")`).
pub fn embed_components(watch: &[&str], components: &[(&str, &str)]) {
    let workspace = watch_workspace(watch);
    let packages: Vec<&str> = components.iter().map(|(package, _)| *package).collect();
    let built = build_components(&workspace, &packages);
    for ((_, variable), file) in components.iter().zip(built) {
        println!("cargo:rustc-env={variable}={}", file.display());
    }
}

/// For a build script: builds `package` with `features` on (in
/// `target/<target_subdir>`) and hands its `.wasm` path to the crate as
/// `variable`, rerunning when `watch` folders change.
pub fn embed_component_with(watch: &[&str], package: &str, features: &[&str], target_subdir: &str, variable: &str) {
    let workspace = watch_workspace(watch);
    let built = build_components_with(&workspace, &[package], features, target_subdir);
    println!("cargo:rustc-env={variable}={}", built[0].display());
}

/// The workspace around the calling crate, after telling cargo to rerun
/// the build script when `watch` folders change.
fn watch_workspace(watch: &[&str]) -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest).parent().expect("the crate lies inside the workspace").to_path_buf();
    for dir in watch {
        rerun_if_changed(&workspace.join(dir));
    }
    workspace
}

/// Tells cargo to rebuild the calling crate when anything under `dir`
/// changes (the sources of a component it embeds or tests).
pub fn rerun_if_changed(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
}

/// Adds the wasm target through rustup when the active toolchain lacks it.
fn ensure_target_installed(workspace: &Path) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(workspace)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.is_some_and(|root| root.join("lib").join("rustlib").join(TARGET).exists()) {
        return;
    }
    let added = Command::new("rustup").args(["target", "add", TARGET]).current_dir(workspace).status();
    match added {
        Ok(s) if s.success() => {}
        _ => panic!(
            "the Rust target {TARGET} is missing and `rustup target add {TARGET}` failed; \
             install it by hand and build again"
        ),
    }
}
