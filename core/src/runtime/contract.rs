//! Checks at load time that a component implements a contract version: it
//! exports the plugin interface with every operation of
//! [`Operation::ALL`], and imports nothing but the contract's own
//! interfaces and the WASI interfaces this host provides. Every refusal
//! names what is missing or unexpected.

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use super::error::LoadError;
use super::operations::{Operation, PARTS_FUNCTIONS};

/// What one contract version requires of a component.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContractSpec {
    /// The interface a plugin must export.
    pub export: &'static str,
    /// The `parts` interface a plugin must also export, from 1.1.0 on.
    pub parts_export: Option<&'static str>,
    /// The contract's own interfaces a plugin may import.
    pub contract_imports: &'static [&'static str],
}

/// The WASI 0.2 packages whose interfaces the host links (network access is
/// linked but every use is refused at run time).
const WASI_PACKAGES: [&str; 6] = ["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// Checks `component`'s exports and imports against the contract.
pub(crate) fn check(engine: &Engine, component: &Component, spec: &ContractSpec) -> Result<(), LoadError> {
    let ty = component.component_type();
    let mismatch = |m: String| Err(LoadError::ContractMismatch(m));

    let unknown: Vec<&str> = ty.imports(engine).map(|(name, _)| name).filter(|name| !is_provided(spec, name)).collect();
    if !unknown.is_empty() {
        return mismatch(format!(
            "it imports {}, which this host does not provide (a plugin may import only {} and the WASI 0.2 \
             interfaces of {})",
            unknown.join(", "),
            spec.contract_imports[0],
            WASI_PACKAGES.map(|p| format!("wasi:{p}")).join(", ")
        ));
    }

    let operations: Vec<&str> = Operation::ALL.iter().map(|op| op.name).collect();
    check_export(engine, component, spec.export, &operations)?;
    if let Some(parts) = spec.parts_export {
        check_export(engine, component, parts, &PARTS_FUNCTIONS)?;
    }
    Ok(())
}

/// Checks that `component` exports the interface `name` with every one of
/// `functions`.
fn check_export(engine: &Engine, component: &Component, name: &str, functions: &[&str]) -> Result<(), LoadError> {
    let ty = component.component_type();
    let mismatch = |m: String| Err(LoadError::ContractMismatch(m));
    let Some(export) = ty.get_export(engine, name) else {
        let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
        let found = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
        return mismatch(format!("it does not export {name} (it exports {found})"));
    };
    let ComponentItem::ComponentInstance(instance) = export.ty else {
        return mismatch(format!("its export {name} is not an interface instance"));
    };
    let missing: Vec<&str> = functions.iter().copied().filter(|f| instance.get_export(engine, f).is_none()).collect();
    if !missing.is_empty() {
        return mismatch(format!("its export {name} lacks the function(s) {}", missing.join(", ")));
    }
    Ok(())
}

/// Whether `component` exports the `plugin` interface of `spec`'s version
/// (whatever else it lacks): the version it means to implement.
pub(crate) fn targets(engine: &Engine, component: &Component, spec: &ContractSpec) -> bool {
    component.component_type().get_export(engine, spec.export).is_some()
}

/// Whether the host links the import `name` for `spec`'s version.
pub(crate) fn is_provided(spec: &ContractSpec, name: &str) -> bool {
    if spec.contract_imports.contains(&name) {
        return true;
    }
    let Some(rest) = name.strip_prefix("wasi:") else { return false };
    let Some((package, version)) = rest.split_once('/').and_then(|(p, r)| Some((p, r.split_once('@')?.1))) else {
        return false;
    };
    WASI_PACKAGES.contains(&package) && version.starts_with("0.2.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::since_v1_0_0::SPEC;

    #[test]
    fn only_the_contract_and_wasi_0_2_are_provided() {
        assert!(is_provided(&SPEC, "kinesis:backup/host@1.0.0"));
        assert!(is_provided(&SPEC, "wasi:filesystem/types@0.2.3"));
        assert!(is_provided(&SPEC, "wasi:io/streams@0.2.0"));
        assert!(!is_provided(&SPEC, "wasi:http/types@0.2.0"));
        assert!(!is_provided(&SPEC, "wasi:filesystem/types@0.3.0"));
        assert!(!is_provided(&SPEC, "kinesis:backup/host@2.0.0"));
        assert!(!is_provided(&SPEC, "wasi:io/streams"));
    }
}
