//! How a case says what went wrong: every check returns a sentence, never
//! panics, so that `plugin check` can print one reason per case.

use kinesis_backup_core::runtime::CallError;

/// What a case or a step of it ends with: `Err` holds why it failed.
pub type Outcome<T = ()> = Result<T, String>;

/// Fails the case with a formatted reason unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err(format!($($reason)+));
        }
    };
}
pub(crate) use ensure;

/// The contract's error cases a check can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `not-found`.
    NotFound,
    /// `invalid-input`.
    InvalidInput,
    /// `corrupt-archive`.
    CorruptArchive,
}

/// The contract's name of the case of `err`, or what the host made of a
/// call that gave no answer.
pub fn kind_name(err: &CallError) -> &'static str {
    match err {
        CallError::NotFound(_) => "not-found",
        CallError::InvalidInput(_) => "invalid-input",
        CallError::CorruptArchive(_) => "corrupt-archive",
        CallError::Busy(_) => "busy",
        CallError::Storage(_) => "storage",
        CallError::DeadlineExceeded { .. } | CallError::Stalled { .. } | CallError::ShutDown { .. } => "stopped",
        CallError::OutOfMemory { .. } => "out of memory",
        CallError::Trapped { .. } => "a crash",
        CallError::Violation { .. } => "a refused answer",
        CallError::Host(_) => "a host failure",
    }
}

impl Kind {
    fn matches(self, err: &CallError) -> bool {
        kind_name(err) == self.name()
    }

    fn name(self) -> &'static str {
        match self {
            Kind::NotFound => "not-found",
            Kind::InvalidInput => "invalid-input",
            Kind::CorruptArchive => "corrupt-archive",
        }
    }
}

/// Turns a plugin call's result into a case's: an error answer becomes a
/// reason naming the call.
pub trait Answer<T> {
    /// The value, or why `call` failed.
    fn answer(self, call: &str) -> Outcome<T>;
    /// The message of the error `kind` that `call` must answer; a success or
    /// another error fails the case.
    fn refused_as(self, kind: Kind, call: &str) -> Outcome<String>;
}

impl<T> Answer<T> for Result<T, CallError> {
    fn answer(self, call: &str) -> Outcome<T> {
        self.map_err(|err| format!("{call} failed ({}): {err}", kind_name(&err)))
    }

    fn refused_as(self, kind: Kind, call: &str) -> Outcome<String> {
        match self {
            Err(err) if kind.matches(&err) => {
                let message = err.to_string();
                ensure!(!message.trim().is_empty(), "{call} answered {} with an empty message", kind.name());
                Ok(message)
            }
            Err(err) => Err(format!("{call} must answer {}, but answered {}: {err}", kind.name(), kind_name(&err))),
            Ok(_) => Err(format!("{call} must answer {}, but it succeeded", kind.name())),
        }
    }
}

/// A failure of the check's own set-up (writing the generated files, say),
/// as a reason.
pub fn setup<T>(result: std::io::Result<T>, what: &str) -> Outcome<T> {
    result.map_err(|e| format!("the check could not {what}: {e}"))
}
