//! Updating one variable in `.env` while keeping every other line, written
//! atomically with mode 0600, and making sure git ignores the file.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::scaffold::write::ChangeSet;
use crate::workspace::dotenv;

/// A `.env` value both Compose and a POSIX shell read back unchanged
/// (checked against Compose v2 in tests/integration/env_set_compose.rs):
/// - plain characters as they are;
/// - else single quotes, literal in both, when there is no `'` (which ends
///   them) and no `\` (Compose reads `\'` as an escaped quote);
/// - else double quotes with `\`, `"` and `$` escaped, which both read the
///   same, unless there is a backquote (a shell runs it, Compose keeps it).
fn encode(value: &str) -> Result<String> {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@+=,-".contains(c));
    if plain {
        return Ok(value.to_string());
    }
    if !value.contains(['\'', '\\']) {
        return Ok(format!("'{value}'"));
    }
    if value.contains('`') {
        bail!(
            "the value holds a backquote together with a quote or a backslash: no .env quoting reads back the same in Compose and a shell"
        );
    }
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '\\' | '"' | '$' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    Ok(format!("\"{escaped}\""))
}

fn defines(line: &str, name: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    line.split(['=', ':'])
        .next()
        .is_some_and(|key| key.trim() == name)
        && line.contains(['=', ':'])
}

/// Sets `name` in `path` (created if missing); returns true if it replaced a line.
/// The folder is locked from the read to the write: two `env set` at once
/// each keep the other's variable.
pub fn upsert(path: &Path, name: &str, value: &str) -> Result<bool> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let lock = std::fs::File::open(folder)
        .with_context(|| format!("cannot open {} to lock it", folder.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", folder.display()))?;
    let existing = crate::workspace::read::optional_text(path)?.unwrap_or_default();
    let entry = format!("{name}={}", encode(value)?);
    let mut replaced = false;
    let mut lines: Vec<String> = Vec::new();
    for line in existing.lines() {
        if defines(line, name) {
            if !replaced {
                // A line the student wrote as `export NAME=...` keeps it.
                let export = if line.trim_start().starts_with("export ") {
                    "export "
                } else {
                    ""
                };
                lines.push(format!("{export}{entry}"));
                replaced = true;
            }
        } else {
            lines.push(line.to_string());
        }
    }
    if !replaced {
        lines.push(entry);
    }
    let text = lines.join("\n") + "\n";
    // Read it back as Compose would, before it replaces the old file.
    let parsed = dotenv::parse(&text, &|_| None)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
    if parsed
        .iter()
        .rev()
        .find(|e| e.key == name)
        .map(|e| e.value.as_str())
        != Some(value)
    {
        bail!(
            "{} would not read {name} back unchanged; nothing was written",
            path.display()
        );
    }
    // Through the one writer: a link out of the folder refused, Ctrl-C
    // before or after, and 0600 whatever mode the file had.
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let mut change = ChangeSet::new(folder);
    change.write_with_mode(&name.to_string_lossy(), text, 0o600)?;
    change.commit()?;
    Ok(replaced)
}

/// Adds `.env` to `.gitignore` unless a line already ignores it; true if added.
pub fn ensure_ignored(dir: &Path) -> Result<bool> {
    let path = dir.join(".gitignore");
    let existing = crate::workspace::read::optional_text(&path)?.unwrap_or_default();
    if existing
        .lines()
        .any(|l| matches!(l.trim(), ".env" | "/.env" | ".env*" | "*.env"))
    {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# Secrets: never commit.\n.env\n");
    let mut change = ChangeSet::new(dir);
    change.write(".gitignore", text)?;
    change.commit()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keeps_comments_and_other_keys_and_replaces_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "# mine\nA=1\nexport HONEYCOMB_API_KEY=old\nB='two words'\nHONEYCOMB_API_KEY=dup\n",
        )
        .unwrap();
        assert!(upsert(&path, "HONEYCOMB_API_KEY", "new-key").unwrap());
        // The first definition is replaced where it stands, `export` kept;
        // the later duplicate (which would win) goes.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# mine\nA=1\nexport HONEYCOMB_API_KEY=new-key\nB='two words'\n"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!upsert(&path, "ROLLBAR_ACCESS_TOKEN", "a b$c").unwrap());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("ROLLBAR_ACCESS_TOKEN='a b$c'\n")
        );
    }

    #[test]
    fn gitignore_gets_env_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target").unwrap();
        assert!(ensure_ignored(dir.path()).unwrap());
        assert!(!ensure_ignored(dir.path()).unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target\n# Secrets: never commit.\n.env\n"
        );
    }
}
