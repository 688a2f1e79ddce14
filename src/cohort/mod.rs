//! A cohort diagnosed at once (`tracelab class`): every repository of a
//! list fetched in parallel and diagnosed as `tracelab doctor --repository`
//! diagnoses it alone, one entry each; a repository that cannot be fetched
//! is an entry with its error, never the end of the run.

pub mod fetch;
pub mod list;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::doctor::finding::{Finding, Status};
use crate::doctor::{Reach, diagnose, ignored_ids, without_ignored};
use crate::workspace::context::Options;
use list::Source;

/// One student's repository and what the doctor found in it.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// As the list named it.
    pub source: String,
    /// `OWNER/REPO`, or the folder's name.
    pub name: String,
    /// The GitHub page of the repository, when it is on GitHub.
    pub github: Option<String>,
    /// Where it was diagnosed.
    pub path: PathBuf,
    pub commit: Option<String>,
    /// The doctor's report, as `doctor --json` prints it.
    pub report: Option<Report>,
    /// Why there is no report: the clone failed, or it is no workspace.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub problems: usize,
    pub warnings: usize,
    pub ignored: usize,
    pub checks: Vec<Finding>,
}

impl Entry {
    pub fn problems(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.problems)
    }

    /// Its problems and warnings.
    pub fn reported(&self) -> impl Iterator<Item = &Finding> {
        self.report
            .iter()
            .flat_map(|r| r.checks.iter())
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
    }
}

/// How to go through the cohort.
pub struct Plan {
    /// Where clones go (`DIR/repos`), kept for the next run to fetch into.
    pub clones: PathBuf,
    pub fetch: fetch::Fetch,
    pub jobs: usize,
    /// Use Compose to resolve each compose file when it is installed.
    pub use_compose_binary: bool,
}

/// Every source fetched and diagnosed, `jobs` at a time, in the list's
/// order; `progress(done, total)` after each. Stops taking new work once
/// Ctrl-C is pressed (the entries not reached are left out).
pub fn diagnose_all(
    sources: &[Source],
    plan: &Plan,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Entry> {
    let folders = clone_folders(sources, &plan.clones);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Entry)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.clamp(1, sources.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= sources.len() || crate::interrupt::interrupted() {
                        break;
                    }
                    let entry = one(&sources[index], &folders[index], plan);
                    results
                        .lock()
                        .expect("no panic holds it")
                        .push((index, entry));
                    progress(done.fetch_add(1, Ordering::SeqCst) + 1, sources.len());
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no panic holds it");
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, entry)| entry).collect()
}

/// A folder name per source under `clones`, unique even when two students'
/// repositories share a name.
fn clone_folders(sources: &[Source], clones: &Path) -> Vec<PathBuf> {
    let mut taken = std::collections::HashSet::new();
    sources
        .iter()
        .map(|source| {
            let flat: String = source
                .name()
                .chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                    _ => '+',
                })
                .collect();
            let flat = flat.trim_start_matches('.').to_string();
            let mut name = flat.clone();
            let mut n = 2;
            while !taken.insert(name.to_ascii_lowercase()) {
                name = format!("{flat}-{n}");
                n += 1;
            }
            clones.join(name)
        })
        .collect()
}

fn one(source: &Source, folder: &Path, plan: &Plan) -> Entry {
    let mut entry = Entry {
        source: source.shown(),
        name: source.name(),
        github: source.github(),
        path: folder.to_path_buf(),
        commit: None,
        report: None,
        error: None,
    };
    match fetch::fetch(source, folder, &plan.fetch) {
        Ok(fetched) => {
            entry.path = fetched.dir;
            entry.commit = fetched.commit;
            match examine(&entry.path, plan) {
                Ok(report) => entry.report = Some(report),
                Err(error) => entry.error = Some(format!("{error:#}")),
            }
        }
        Err(error) => entry.error = Some(error),
    }
    entry
}

/// The doctor on the repository alone, exactly as `tracelab doctor
/// --repository --dir DIR` runs it (its own `.tracelab.yml` ignores kept).
pub fn examine(dir: &Path, plan: &Plan) -> anyhow::Result<Report> {
    // The clone itself: never a workspace above it, as `locate` would find.
    if !crate::workspace::is_workspace(dir) {
        anyhow::bail!("no docker-compose.yml, .tracelab.yml or backend-flask/ at its root");
    }
    let options = Options {
        external_layers: false,
        use_compose_binary: plan.use_compose_binary,
        repository_only: true,
    };
    let ignore = ignored_ids(dir, &[])?;
    let (checks, ignored) = without_ignored(diagnose(dir, options, Reach::default())?, &ignore);
    let count = |status| checks.iter().filter(|f| f.status == status).count();
    Ok(Report {
        problems: count(Status::Fail),
        warnings: count(Status::Warn),
        ignored,
        checks,
    })
}
