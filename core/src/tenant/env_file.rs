//! The format of the tenant's `.env` file: `KEY=VALUE` lines, `#` comments
//! and blank lines. Changing a value keeps every other line as it was.
//! Reading and writing the file itself is [`TenantDirs::read_env`] and
//! [`TenantDirs::write_env`] (no links followed, atomic replace).
//!
//! [`TenantDirs::read_env`]: crate::tenant::TenantDirs::read_env
//! [`TenantDirs::write_env`]: crate::tenant::TenantDirs::write_env

/// The lines of a `.env` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    lines: Vec<String>,
}

impl EnvFile {
    /// Parses `text`; every line is kept, also ones that are not `KEY=VALUE`.
    pub fn parse(text: &str) -> Self {
        EnvFile { lines: text.lines().map(str::to_owned).collect() }
    }

    /// The value of `key`, without surrounding quotes; the last one wins.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines.iter().rev().find_map(|line| split_assignment(line).filter(|(k, _)| *k == key).map(|(_, v)| v))
    }

    /// Sets `key` to `value`, replacing its line or appending one.
    pub fn set(&mut self, key: &str, value: &str) {
        let line = format!("{key}={value}");
        match self.lines.iter().rposition(|l| split_assignment(l).is_some_and(|(k, _)| k == key)) {
            Some(index) => self.lines[index] = line,
            None => self.lines.push(line),
        }
    }

    /// The file contents.
    pub fn render(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }
}

/// `KEY=VALUE` split into key and unquoted value; `None` for comments,
/// blank lines and anything else.
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    let value = value.trim();
    let unquoted =
        ['"', '\''].iter().find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q))).unwrap_or(value);
    Some((key, unquoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_set_keep_other_lines() {
        let mut env = EnvFile::parse("# settings\nA=1\nexport B=\"two words\"\n\nC='x'\n");
        assert_eq!(env.get("A"), Some("1"));
        assert_eq!(env.get("B"), Some("two words"));
        assert_eq!(env.get("C"), Some("x"));
        assert_eq!(env.get("D"), None);
        env.set("A", "9");
        env.set("D", "new");
        assert_eq!(env.render(), "# settings\nA=9\nexport B=\"two words\"\n\nC='x'\nD=new\n");
    }
}
