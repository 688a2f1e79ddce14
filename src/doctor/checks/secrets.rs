//! `secret-committed` and `env-secret-in-compose`: a key, token or secret
//! written into a file the repository commits (a Dockerfile `ENV`, compose,
//! a committed `.env`, Python, JavaScript, a journal). Shown as fingerprints.

use crate::doctor::finding::{CheckId, Finding, Layer};
use crate::fingerprint::fingerprint;
use crate::workspace::compose::FILE_NAMES;
use crate::workspace::context::Context;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for secret in &ctx.secrets {
        let place = format!("{}:{}", secret.path.display(), secret.line);
        let name = secret
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let is_compose = FILE_NAMES.contains(&name) || name.starts_with("docker-compose.");
        let (id, how) = if is_compose {
            (
                CheckId::EnvSecretInCompose,
                format!("at {place} write ${{{}}} instead", secret.variable),
            )
        } else if name.ends_with(".js")
            || name.ends_with(".ts")
            || name.ends_with(".jsx")
            || name.ends_with(".tsx")
        {
            (
                CheckId::SecretCommitted,
                format!(
                    "at {place} read it from the build environment (process.env.REACT_APP_...) or send browser spans through a collector that holds the key"
                ),
            )
        } else {
            (
                CheckId::SecretCommitted,
                format!(
                    "at {place} read it from the environment ({})",
                    secret.variable
                ),
            )
        };
        out.push(
            Finding::fail(
                id,
                Layer::Workspace,
                format!(
                    "{place}: a {} ({}) is written into this file, which is committed: anyone who can read the repository can use it",
                    secret.kind,
                    fingerprint(&secret.value)
                ),
            )
            .var(secret.variable)
            .fix(format!(
                "{how}, rotate the key, and set it with: {}",
                super::env::set_command(ctx, secret.variable)
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    const KEY: &str = "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w";

    /// A key written into committed code is named at its line, by its
    /// fingerprint, never in full.
    #[test]
    fn a_key_in_code_is_named_by_its_fingerprint_at_its_line() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "import os\n",
                &format!("import os\nHONEYCOMB_KEY = \"{KEY}\"\n"),
            ),
            SHELL,
        );
        let found = checked.one(CheckId::SecretCommitted, Status::Fail);
        assert!(
            found.message.contains("backend-flask/app.py:"),
            "{}",
            found.message
        );
        assert!(!found.message.contains(KEY), "{}", found.message);
    }

    /// In the compose file, the fix is the interpolation that reads it.
    #[test]
    fn a_key_in_the_compose_file_is_replaced_by_its_interpolation() {
        let checked = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "x-honeycomb-team=${HONEYCOMB_API_KEY}",
                &format!("x-honeycomb-team={KEY}"),
            ),
            SHELL,
        );
        let found = checked.one(CheckId::EnvSecretInCompose, Status::Fail);
        assert!(
            found
                .fix
                .as_deref()
                .unwrap_or("")
                .contains("${HONEYCOMB_API_KEY}"),
            "{found:#?}"
        );
        assert!(!format!("{found:?}").contains(KEY));
    }
}
