//! Checks tested in-process, as dotenv-linter's `check_test` does: a
//! workspace the scaffold renders (healthy to begin with), one slip
//! planted in it, and the checklist run on the model read from it, with
//! a shell given as data. No process is started and no tool is asked, so
//! each test takes milliseconds; the files live in a temporary folder,
//! because a finding's fix is an edit of a file as it reads on disk.

use std::path::Path;

use super::super::finding::{Apply, CheckId, Edit, Finding, Status};
use crate::answers::Answers;
use crate::workspace::context::{Context, Options};
use crate::workspace::layers::Vars;

/// A healthy student's shell: each key well formed, region ca-central-1.
pub const SHELL: &[(&str, &str)] = &[
    (
        "HONEYCOMB_API_KEY",
        "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w",
    ),
    ("AWS_ACCESS_KEY_ID", "AKIAZ7Q4R5T6Y7U8I9O0"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d",
    ),
    ("AWS_DEFAULT_REGION", "ca-central-1"),
    ("ROLLBAR_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef"),
];

/// A workspace on disk and the findings of the checklist on it.
pub struct Checked {
    _dir: tempfile::TempDir,
    pub findings: Vec<Finding>,
}

impl Checked {
    /// The ids reported with `status`, in report order.
    pub fn ids(&self, status: Status) -> Vec<CheckId> {
        self.findings
            .iter()
            .filter(|f| f.status == status)
            .map(|f| f.id)
            .collect()
    }

    /// The one finding of `id` with `status`; panics with the report if
    /// there is not exactly one.
    pub fn one(&self, id: CheckId, status: Status) -> &Finding {
        let found: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.id == id && f.status == status)
            .collect();
        match found.as_slice() {
            [one] => one,
            _ => panic!(
                "{} {id} {status:?} findings in {:#?}",
                found.len(),
                self.findings
            ),
        }
    }

    /// The one edit the one finding of `id` with `status` makes; panics
    /// when it makes none, or several.
    pub fn edit(&self, id: CheckId, status: Status) -> &Edit {
        match &self.one(id, status).apply {
            Some(Apply::Edit(edit)) => edit,
            other => panic!("{id} makes no single edit: {other:#?}"),
        }
    }
}

/// A generated workspace with `backends` (comma-separated), each file
/// passed through `edit` (path, text) before the checklist reads it,
/// checked with `shell` as the student's shell.
pub fn check(
    backends: &str,
    edit: impl Fn(&str, String) -> String,
    shell: &[(&str, &str)],
) -> Checked {
    check_renamed(backends, edit, |path| path.to_string(), shell)
}

/// `check`, with `setup` run on the workspace's folder before the
/// checklist reads it (a git repository made, a mode changed).
pub fn check_after(
    backends: &str,
    edit: impl Fn(&str, String) -> String,
    setup: impl Fn(&Path),
    shell: &[(&str, &str)],
) -> Checked {
    let dir = render(backends, edit, |path| path.to_string());
    setup(dir.path());
    checked(dir, shell)
}

/// `check`, with each file written under the name `rename` gives it.
pub fn check_renamed(
    backends: &str,
    edit: impl Fn(&str, String) -> String,
    rename: impl Fn(&str) -> String,
    shell: &[(&str, &str)],
) -> Checked {
    checked(render(backends, edit, rename), shell)
}

/// The workspace the scaffold renders, each file edited and renamed.
fn render(
    backends: &str,
    edit: impl Fn(&str, String) -> String,
    rename: impl Fn(&str) -> String,
) -> tempfile::TempDir {
    let mut answers = Answers::defaults(None);
    answers.set("backends", backends).expect("valid backends");
    answers.gitpod = false;
    let dir = tempfile::tempdir().expect("a temporary folder");
    for file in crate::scaffold::render_workspace(&answers).expect("templates render") {
        let path = dir.path().join(rename(&file.path));
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).expect("folder");
        std::fs::write(&path, edit(&file.path, file.contents)).expect("write");
    }
    dir
}

fn checked(dir: tempfile::TempDir, shell: &[(&str, &str)]) -> Checked {
    Checked {
        findings: check_dir(dir.path(), shell),
        _dir: dir,
    }
}

/// The default configuration's model of a generated workspace, for a
/// check whose layer the quick load leaves out (the running container)
/// to be given it as data. The folder lives as long as the first value.
pub fn context(
    backends: &str,
    edit: impl Fn(&str, String) -> String,
    shell: &[(&str, &str)],
) -> (tempfile::TempDir, Context) {
    let dir = render(backends, edit, |path| path.to_string());
    let context = Context::load(dir.path(), vars(shell), quick()).expect("the workspace reads");
    (dir, context)
}

fn vars(shell: &[(&str, &str)]) -> Vars {
    shell
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Nothing outside the folder asked: no docker, no gp, no Compose binary.
fn quick() -> Options {
    Options {
        external_layers: false,
        use_compose_binary: false,
        repository_only: false,
    }
}

/// The checklist on the workspace at `dir`, with nothing outside asked.
pub fn check_dir(dir: &Path, shell: &[(&str, &str)]) -> Vec<Finding> {
    let contexts = Context::load_all(dir, vars(shell), quick()).expect("the workspace reads");
    crate::doctor::check(&contexts)
}

/// `text` with `from` replaced by `to` in the file `path` (and a panic if
/// the template no longer holds `from`: the test would test nothing).
pub fn replace<'a>(
    path: &'a str,
    from: &'a str,
    to: &'a str,
) -> impl Fn(&str, String) -> String + 'a {
    in_file(path, move |text| {
        assert!(text.contains(from), "{path} no longer holds {from:?}");
        text.replace(from, to)
    })
}

/// The file `path` as `edit` makes it; every other file as rendered.
pub fn in_file<'a>(
    path: &'a str,
    edit: impl Fn(String) -> String + 'a,
) -> impl Fn(&str, String) -> String + 'a {
    move |file, text| if file == path { edit(text) } else { text }
}

/// Every file as rendered.
pub fn unchanged(_: &str, text: String) -> String {
    text
}

#[test]
fn a_generated_workspace_has_no_problem_and_no_warning() {
    for backends in ["honeycomb", "local", "honeycomb,xray,cloudwatch,rollbar"] {
        let checked = check(backends, unchanged, SHELL);
        assert_eq!(
            checked.ids(Status::Fail),
            [],
            "{backends}: {:#?}",
            checked.findings
        );
        assert_eq!(
            checked.ids(Status::Warn),
            [],
            "{backends}: {:#?}",
            checked.findings
        );
    }
}
