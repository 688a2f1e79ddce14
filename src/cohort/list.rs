//! The cohort's list: repository URLs or local folders, one a line with `#`
//! comments, or a CSV with a `repo` column (what a submission form exports).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One student's repository, as the list names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// Cloned with git: https://, ssh://, git@host:path, file://.
    Url(String),
    /// Diagnosed where it is.
    Folder(PathBuf),
}

impl Source {
    /// As the list wrote it.
    pub fn shown(&self) -> String {
        match self {
            Source::Url(url) => url.clone(),
            Source::Folder(path) => path.display().to_string(),
        }
    }

    /// `OWNER/REPO` for a forge URL, the folder's name otherwise: how the
    /// report names the student.
    pub fn name(&self) -> String {
        match self {
            Source::Url(url) => {
                let path = url
                    .trim_end_matches('/')
                    .trim_end_matches(".git")
                    .rsplit(['/', ':'])
                    .take(2)
                    .collect::<Vec<_>>();
                match path.as_slice() {
                    [repo, owner] if !owner.is_empty() => format!("{owner}/{repo}"),
                    [repo, ..] => repo.to_string(),
                    [] => url.clone(),
                }
            }
            Source::Folder(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        }
    }

    /// `https://github.com/OWNER/REPO` when the URL is GitHub's: where a
    /// finding's line can be linked.
    pub fn github(&self) -> Option<String> {
        let Source::Url(url) = self else {
            return None;
        };
        let rest = url
            .strip_prefix("https://github.com/")
            .or_else(|| url.strip_prefix("http://github.com/"))
            .or_else(|| url.strip_prefix("git@github.com:"))
            .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
        let rest = rest.trim_end_matches('/').trim_end_matches(".git");
        let mut parts = rest.split('/');
        let (owner, repo) = (parts.next()?, parts.next()?);
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (plain(owner) && plain(repo)).then(|| format!("https://github.com/{owner}/{repo}"))
    }
}

fn is_url(text: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
        || (text.starts_with("git@") && text.contains(':'))
}

/// One entry: a URL, or a folder relative to the list's own folder.
fn source(text: &str, base: &Path) -> Source {
    if is_url(text) {
        Source::Url(text.to_string())
    } else {
        Source::Folder(base.join(text))
    }
}

/// Reads the list at `path`. A CSV is known by its header: a `repo` column
/// (any case, or `repository`, `url`, `github`); every other file is one
/// entry a line.
pub fn read(path: &Path) -> Result<Vec<Source>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the list {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let entries = match csv_column(&text) {
        Some(column) => from_csv(&text, column, path, base)?,
        None => text
            .lines()
            .map(|line| line.split_once('#').map_or(line, |(kept, _)| kept).trim())
            .filter(|line| !line.is_empty())
            .map(|line| source(line, base))
            .collect(),
    };
    if entries.is_empty() {
        bail!(
            "{} names no repository: write one URL or folder a line, or a CSV with a repo column",
            path.display()
        );
    }
    let mut seen = std::collections::HashSet::new();
    Ok(entries
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect())
}

const REPO_COLUMNS: [&str; 4] = ["repo", "repository", "url", "github"];

/// The index of the repository column when the first line is a CSV header.
fn csv_column(text: &str) -> Option<usize> {
    let header = text.lines().next()?;
    if !header.contains(',') {
        return None;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header.as_bytes());
    let record = reader.records().next()?.ok()?;
    record
        .iter()
        .position(|field| REPO_COLUMNS.contains(&field.trim().to_ascii_lowercase().as_str()))
}

fn from_csv(text: &str, column: usize, path: &Path, base: &Path) -> Result<Vec<Source>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("{}:{}: not a CSV row", path.display(), index + 2))?;
        let Some(value) = record.get(column).map(str::trim) else {
            continue;
        };
        if !value.is_empty() {
            entries.push(source(value, base));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> Vec<Source> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list");
        std::fs::write(&path, text).unwrap();
        read(&path)
            .unwrap()
            .into_iter()
            .map(|s| match s {
                Source::Folder(p) => Source::Folder(p.strip_prefix(dir.path()).unwrap().into()),
                url => url,
            })
            .collect()
    }

    #[test]
    fn lines_with_comments_and_folders() {
        let got = list(
            "# week 2\nhttps://github.com/a/b\n\n  git@github.com:c/d.git  # late\nstudents/e\nhttps://github.com/a/b\n",
        );
        assert_eq!(
            got,
            vec![
                Source::Url("https://github.com/a/b".into()),
                Source::Url("git@github.com:c/d.git".into()),
                Source::Folder("students/e".into()),
            ]
        );
    }

    #[test]
    fn a_form_export_with_a_repo_column() {
        let got = list(
            "Timestamp,Name,Repo,Notes\n2023-03-01,\"Doe, Jane\",https://github.com/jane/cruddur,\"has, commas\"\n2023-03-02,Bob,,none\n",
        );
        assert_eq!(
            got,
            vec![Source::Url("https://github.com/jane/cruddur".into())]
        );
    }

    #[test]
    fn names_and_forge_links() {
        let url = Source::Url("git@github.com:Owner/repo-2023.git".into());
        assert_eq!(url.name(), "Owner/repo-2023");
        assert_eq!(
            url.github().as_deref(),
            Some("https://github.com/Owner/repo-2023")
        );
        let local = Source::Url("file:///srv/git/ann.git".into());
        assert_eq!(local.name(), "git/ann");
        assert_eq!(local.github(), None);
        assert_eq!(Source::Folder("x/ann".into()).name(), "ann");
    }

    #[test]
    fn an_empty_list_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list");
        std::fs::write(&path, "# nobody yet\n").unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("names no repository"), "{error}");
    }
}
