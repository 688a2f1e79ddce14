//! `tracelab update`: the workspace's answers, changed with `--set`, merged
//! into the student's files (scaffold::workflow).

use crate::exit::ExitStatus;
use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cli::{MergeArgs, UpdateArgs};
use crate::scaffold::manifest::ANSWERS_FILE;
use crate::scaffold::workflow::{merge_into, recorded_answers};

pub fn run(args: UpdateArgs) -> Result<ExitStatus> {
    let dir = workspace_dir(&args.merge)?;
    let mut answers = recorded_answers(&dir)?;
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set expects KEY=VALUE, got {pair:?} (for example --set port=5000)");
        };
        answers
            .set(key.trim(), value)
            .map_err(|e| anyhow::anyhow!("{e} (from --set {pair}); nothing was written"))?;
    }
    answers
        .validate()
        .map_err(|e| anyhow::anyhow!("{e}; nothing was written"))?;
    merge_into(&dir, &answers, &args.merge.request())
}

fn workspace_dir(args: &MergeArgs) -> Result<PathBuf> {
    let dir = crate::workspace::locate(args.dir.as_deref())?;
    if !dir.join(ANSWERS_FILE).is_file() {
        bail!(
            "{} has no {ANSWERS_FILE}: tracelab did not make this workspace, so it has nothing to merge with; \
             compare with one it makes (tracelab new --defaults --set backends=... /tmp/ref) and copy the pieces",
            dir.display()
        );
    }
    Ok(dir)
}
