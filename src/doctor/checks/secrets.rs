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
