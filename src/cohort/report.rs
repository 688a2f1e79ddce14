//! The cohort's report: `class.json` (every entry, as data), `class.csv`
//! (a row per repository and finding) and `index.html` (one page with no
//! network: the commonest problems first, then a row per student, each
//! finding linked to its line on the forge).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use minijinja::{Environment, context};
use serde::Serialize;

use super::Entry;
use crate::doctor::catalogue::{self, CheckId};
use crate::doctor::finding::{Finding, Status};

/// A check that found something in several repositories.
#[derive(Debug, Serialize)]
pub struct Common {
    pub id: CheckId,
    pub status: Status,
    /// The students' names, in the list's order.
    pub students: Vec<String>,
}

/// The whole cohort at a glance.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub repositories: usize,
    /// Diagnosed with no problem (warnings allowed).
    pub clean: usize,
    pub with_problems: usize,
    /// Not diagnosed: the fetch failed, or it is no workspace.
    pub failed: usize,
    /// Problems first, then warnings; the most students first.
    pub common: Vec<Common>,
}

impl Summary {
    pub fn of(entries: &[Entry]) -> Summary {
        let mut by_check: BTreeMap<(std::cmp::Reverse<Status>, CheckId), Vec<String>> =
            BTreeMap::new();
        for entry in entries {
            let mut seen = std::collections::HashSet::new();
            for finding in entry.reported() {
                if seen.insert((finding.status, finding.id)) {
                    by_check
                        .entry((std::cmp::Reverse(finding.status), finding.id))
                        .or_default()
                        .push(entry.name.clone());
                }
            }
        }
        let mut common: Vec<Common> = by_check
            .into_iter()
            .map(|((status, id), students)| Common {
                id,
                status: status.0,
                students,
            })
            .collect();
        // Stable: within the same status and count, the catalogue's order.
        common.sort_by_key(|c| {
            (
                std::cmp::Reverse(c.status),
                std::cmp::Reverse(c.students.len()),
            )
        });
        let failed = entries.iter().filter(|e| e.report.is_none()).count();
        let with_problems = entries.iter().filter(|e| e.problems() > 0).count();
        Summary {
            repositories: entries.len(),
            clean: entries.len() - failed - with_problems,
            with_problems,
            failed,
            common,
        }
    }
}

/// `class.json`.
#[derive(Serialize)]
pub struct ClassFile<'a> {
    pub summary: &'a Summary,
    pub repositories: &'a [Entry],
}

/// Where a finding's line is: on GitHub at the commit diagnosed, else the
/// file in the local clone (relative to the report's folder).
fn link(entry: &Entry, finding: &Finding, out: &Path) -> Option<(String, String)> {
    let place = finding.location(&entry.path)?;
    let shown = format!("{}:{}", place.file, place.line);
    let href = match (&entry.github, &entry.commit) {
        (Some(page), Some(commit)) => {
            format!("{page}/blob/{commit}/{}#L{}", place.file, place.line)
        }
        _ => {
            let file = entry.path.join(&place.file);
            let file = file.strip_prefix(out).unwrap_or(&file);
            file.to_string_lossy().into_owned()
        }
    };
    Some((shown, href))
}

/// Writes class.json, class.csv and index.html into `out`.
pub fn write(out: &Path, entries: &[Entry], summary: &Summary) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(&ClassFile {
        summary,
        repositories: entries,
    })?;
    write_file(&out.join("class.json"), json.as_bytes())?;
    write_file(&out.join("class.csv"), &csv(entries, out)?)?;
    write_file(
        &out.join("index.html"),
        html(entries, summary, out)?.as_bytes(),
    )?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut file, bytes)?;
    // A report to share and serve, with no secret in it: readable by all.
    std::fs::set_permissions(
        file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// One row per repository and problem or warning; a clean repository is
/// one row with status `ok`, an undiagnosed one a row with status `error`.
fn csv(entries: &[Entry], out: &Path) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "repo", "source", "commit", "status", "id", "file", "line", "message", "link",
    ])?;
    for entry in entries {
        let commit = entry.commit.as_deref().unwrap_or("");
        let mut rows = 0;
        for finding in entry.reported() {
            let place = finding.location(&entry.path);
            let (file, line) = place
                .map(|p| (p.file, p.line.to_string()))
                .unwrap_or_default();
            let href = link(entry, finding, out)
                .map(|(_, h)| h)
                .unwrap_or_default();
            writer.write_record([
                entry.name.as_str(),
                entry.source.as_str(),
                commit,
                finding.status.name(),
                finding.id.as_str(),
                &file,
                &line,
                &finding.message,
                &href,
            ])?;
            rows += 1;
        }
        if rows == 0 {
            let (status, message) = match &entry.error {
                Some(error) => ("error", error.as_str()),
                None => ("ok", ""),
            };
            writer.write_record([
                entry.name.as_str(),
                entry.source.as_str(),
                commit,
                status,
                "",
                "",
                "",
                message,
                "",
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

const PAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/class/class.html"
));

fn html(entries: &[Entry], summary: &Summary, out: &Path) -> Result<String> {
    let mut env = Environment::new();
    env.add_template("class.html", PAGE)?;
    let common: Vec<_> = summary
        .common
        .iter()
        .map(|c| {
            context! {
                id => c.id.as_str(),
                status => c.status.name(),
                count => c.students.len(),
                students => c.students.clone(),
                doc => c.id.doc(),
            }
        })
        .collect();
    let rows: Vec<_> = entries
        .iter()
        .map(|entry| {
            let findings: Vec<_> = entry
                .reported()
                .map(|finding| {
                    let (place, href) = link(entry, finding, out).unzip();
                    // The link shows the place: the message need not repeat it.
                    let message = place
                        .as_deref()
                        .and_then(|p| finding.message.strip_prefix(&format!("{p}: ")))
                        .unwrap_or(&finding.message);
                    context! {
                        id => finding.id.as_str(),
                        status => finding.status.name(),
                        message,
                        fix => finding.fix.clone(),
                        place,
                        href,
                    }
                })
                .collect();
            context! {
                name => entry.name.clone(),
                anchor => anchor(&entry.name),
                source => entry.source.clone(),
                github => entry.github.clone(),
                commit => entry.commit.as_deref().map(|c| &c[..c.len().min(10)]),
                problems => entry.problems(),
                warnings => entry.report.as_ref().map_or(0, |r| r.warnings),
                error => entry.error.clone(),
                findings,
            }
        })
        .collect();
    let explained: Vec<_> = summary
        .common
        .iter()
        .map(|c| c.id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| context! { id => id.as_str(), text => catalogue::explain(id) })
        .collect();
    let anchors: BTreeMap<String, String> = entries
        .iter()
        .map(|e| (e.name.clone(), anchor(&e.name)))
        .collect();
    let page = env.get_template("class.html")?.render(context! {
        summary => context! {
            repositories => summary.repositories,
            clean => summary.clean,
            with_problems => summary.with_problems,
            failed => summary.failed,
        },
        common,
        rows,
        explained,
        anchors,
        version => env!("CARGO_PKG_VERSION"),
    })?;
    Ok(page)
}

/// An HTML id for a student's row.
fn anchor(name: &str) -> String {
    let flat: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("student-{flat}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::Layer;

    fn entry(dir: &Path, github: Option<&str>) -> Entry {
        Entry {
            source: "x".into(),
            name: "owner/repo".into(),
            github: github.map(String::from),
            path: dir.to_path_buf(),
            commit: Some("0123456789abcdef".into()),
            report: None,
            error: None,
        }
    }

    #[test]
    fn a_finding_links_to_its_line_on_github_at_the_commit_diagnosed() {
        let out = tempfile::tempdir().unwrap();
        let clone = out.path().join("repos/owner+repo");
        std::fs::create_dir_all(clone.join("backend-flask")).unwrap();
        std::fs::write(clone.join("backend-flask/app.py"), "import os\n").unwrap();
        let finding = Finding::fail(
            CheckId::PythonUndefinedName,
            Layer::Code,
            "backend-flask/app.py:30: nothing binds `os` here",
        );
        let on_github = entry(&clone, Some("https://github.com/owner/repo"));
        assert_eq!(
            link(&on_github, &finding, out.path()),
            Some((
                "backend-flask/app.py:30".to_string(),
                "https://github.com/owner/repo/blob/0123456789abcdef/backend-flask/app.py#L30"
                    .to_string()
            ))
        );
        let elsewhere = entry(&clone, None);
        assert_eq!(
            link(&elsewhere, &finding, out.path()).unwrap().1,
            "repos/owner+repo/backend-flask/app.py"
        );
        // A place that is no file in the clone is no link.
        let host = Finding::fail(
            CheckId::PythonUndefinedName,
            Layer::Code,
            "api.honeycomb.io:443 refused",
        );
        assert_eq!(link(&on_github, &host, out.path()), None);
    }

    #[test]
    fn the_commonest_problems_come_first_counted_once_per_student() {
        let finding = |id, status| Finding::new(id, status, Layer::Code, "m");
        let with = |name: &str, checks: Vec<Finding>| Entry {
            name: name.into(),
            report: Some(super::super::Report {
                problems: checks.iter().filter(|f| f.status == Status::Fail).count(),
                warnings: 0,
                ignored: 0,
                checks,
            }),
            ..entry(Path::new("."), None)
        };
        let entries = vec![
            with(
                "a",
                vec![
                    finding(CheckId::PythonUndefinedName, Status::Fail),
                    finding(CheckId::PythonUndefinedName, Status::Fail),
                    finding(CheckId::LabSpan, Status::Warn),
                ],
            ),
            with(
                "b",
                vec![finding(CheckId::PythonUndefinedName, Status::Fail)],
            ),
            with("c", vec![finding(CheckId::LabSpan, Status::Warn)]),
            with("d", vec![]),
        ];
        let summary = Summary::of(&entries);
        assert_eq!(
            (summary.clean, summary.with_problems, summary.failed),
            (2, 2, 0)
        );
        let common: Vec<(CheckId, usize)> = summary
            .common
            .iter()
            .map(|c| (c.id, c.students.len()))
            .collect();
        assert_eq!(
            common,
            vec![(CheckId::PythonUndefinedName, 2), (CheckId::LabSpan, 2)]
        );
    }
}
