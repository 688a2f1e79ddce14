//! `tracelab class`: a cohort of local git repositories (file:// URLs, one
//! missing) cloned with the real git, each diagnosed exactly as `tracelab
//! doctor --repository` diagnoses it alone; the deadline, the reuse of
//! clones, the CSV, and the page as Chromium renders it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::common;
use crate::common::browser::Browser;

/// `git ARGS` in `dir`, as a student with a fixed date commits.
fn git(dir: &Path, args: &[&str], date: &str) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Student")
        .env("GIT_AUTHOR_EMAIL", "student@example.com")
        .env("GIT_COMMITTER_NAME", "Student")
        .env("GIT_COMMITTER_EMAIL", "student@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A generated workspace committed as a student's repository.
fn student(root: &Path, name: &str, date: &str) -> PathBuf {
    let dir = root.join(name);
    common::tracelab()
        .args([
            "new",
            "--defaults",
            "--no-check",
            "--set",
            "backends=honeycomb,xray",
        ])
        .arg(&dir)
        .assert()
        .success();
    git(&dir, &["init", "--quiet", "--initial-branch=main"], date);
    commit(&dir, "week 2", date);
    dir
}

fn commit(dir: &Path, message: &str, date: &str) -> String {
    git(dir, &["add", "-A"], date);
    git(dir, &["commit", "--quiet", "-m", message], date);
    git(dir, &["rev-parse", "HEAD"], date)
}

/// The slip every cohort has: an import commented out.
fn slip(dir: &Path) {
    let app = dir.join("backend-flask/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    let slipped = text.replacen("\nimport os\n", "\n# import os\n", 1);
    assert!(slipped != text);
    std::fs::write(app, slipped).unwrap();
}

fn class(list: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .arg("class")
        .arg(list)
        .arg("--out")
        .arg(out)
        .args(["--builtin-resolver"])
        .args(extra)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `tracelab doctor --repository --json` on `dir` alone: its findings.
fn doctor_alone(dir: &Path) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args([
            "doctor",
            "--repository",
            "--json",
            "--builtin-resolver",
            "--dir",
        ])
        .arg(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["checks"].clone()
}

struct Cohort {
    _root: tempfile::TempDir,
    list: PathBuf,
    out: PathBuf,
    healthy: PathBuf,
    slipped: PathBuf,
    late: PathBuf,
    /// The late student's commit before the deadline.
    on_time: String,
}

fn cohort() -> Cohort {
    let root = tempfile::tempdir().unwrap();
    let sources = root.path().join("students");
    let healthy = student(&sources, "ann", "2023-03-01T10:00:00Z");
    let slipped = student(&sources, "bob", "2023-03-01T10:00:00Z");
    slip(&slipped);
    commit(&slipped, "tracing", "2023-03-02T10:00:00Z");
    // Clean before the deadline, a slip pushed after it.
    let late = student(&sources, "cat", "2023-03-01T10:00:00Z");
    let on_time = git(&late, &["rev-parse", "HEAD"], "2023-03-01T10:00:00Z");
    slip(&late);
    commit(&late, "after the deadline", "2023-03-09T10:00:00Z");
    // As a submission form exports it: a CSV with a Repo column.
    let url = |dir: &Path| format!("file://{}", dir.display());
    let list = root.path().join("submissions.csv");
    std::fs::write(
        &list,
        format!(
            "Timestamp,Name,Repo\n2023-03-05,\"Ann, A.\",{}\n2023-03-05,Bob,{}\n2023-03-05,Cat,{}\n2023-03-05,Dan,{}\n",
            url(&healthy),
            url(&slipped),
            url(&late),
            url(&sources.join("dan-never-pushed")),
        ),
    )
    .unwrap();
    let out = root.path().join("report");
    Cohort {
        _root: root,
        list,
        out,
        healthy,
        slipped,
        late,
        on_time,
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_repository_is_diagnosed_as_the_doctor_alone_would_and_a_missing_one_is_an_entry() {
    let cohort = cohort();
    let output = class(&cohort.list, &cohort.out, &["--jobs", "3"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("4 repositories: 1 with no problem, 2 with problems, 1 not diagnosed"),
        "{stdout}"
    );
    assert!(stdout.contains("python-undefined-name"), "{stdout}");

    let class = read_json(&cohort.out.join("class.json"));
    let entries = class["repositories"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // The list's order, whatever order the jobs finished in.
    assert!(
        names[0].ends_with("/ann") && names[3].ends_with("/dan-never-pushed"),
        "{names:?}"
    );

    for (entry, source) in entries
        .iter()
        .zip([&cohort.healthy, &cohort.slipped, &cohort.late])
    {
        let clone = PathBuf::from(entry["path"].as_str().unwrap());
        assert!(clone.starts_with(cohort.out.join("repos")), "{clone:?}");
        assert_eq!(
            entry["commit"].as_str().unwrap(),
            git(source, &["rev-parse", "HEAD"], "2023-03-01T10:00:00Z")
        );
        assert_eq!(
            entry["report"]["checks"],
            doctor_alone(&clone),
            "{}",
            entry["name"]
        );
        assert_eq!(entry["error"], serde_json::Value::Null);
    }
    assert_eq!(entries[0]["report"]["problems"], 0);
    assert!(entries[1]["report"]["problems"].as_u64().unwrap() >= 1);
    let missing = &entries[3];
    assert_eq!(missing["report"], serde_json::Value::Null);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("does not appear to be a git repository"),
        "{missing}"
    );
    let common = &class["summary"]["common"][0];
    assert_eq!(common["id"], "python-undefined-name");
    assert_eq!(common["students"].as_array().unwrap().len(), 2);

    // class.csv: a row per repository and finding, an `ok` row for a clean
    // one, an `error` row for the missing one.
    let mut reader = csv::Reader::from_path(cohort.out.join("class.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let for_repo = |n: usize| {
        rows.iter()
            .filter(|r| r[0] == *names[n])
            .collect::<Vec<_>>()
    };
    assert_eq!(for_repo(0).len(), 1);
    assert_eq!(&for_repo(0)[0][3], "ok");
    let reported = entries[1]["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "warn")
        .count();
    assert_eq!(for_repo(1).len(), reported);
    let undefined = for_repo(1)
        .into_iter()
        .find(|r| &r[4] == "python-undefined-name")
        .unwrap();
    assert_eq!(&undefined[5], "backend-flask/app.py");
    assert!(undefined[6].parse::<usize>().unwrap() > 1);
    assert_eq!(&for_repo(3)[0][3], "error");
}

#[test]
fn before_a_deadline_the_last_commit_before_it_is_diagnosed() {
    let cohort = cohort();
    let output = class(&cohort.list, &cohort.out, &["--before", "2023-03-05"]);
    assert_eq!(output.status.code(), Some(1));
    let report = read_json(&cohort.out.join("class.json"));
    let late = &report["repositories"][2];
    assert_eq!(late["commit"], cohort.on_time.as_str());
    assert_eq!(late["report"]["problems"], 0, "{late:#}");
    let after = class(&cohort.list, &cohort.out, &["--before", "2023-02-01"]);
    assert_eq!(after.status.code(), Some(1));
    let report = read_json(&cohort.out.join("class.json"));
    assert_eq!(
        report["repositories"][0]["error"],
        "no commit before 2023-02-01"
    );
}

#[test]
fn a_second_run_fetches_into_the_clones_it_made() {
    let cohort = cohort();
    assert_eq!(class(&cohort.list, &cohort.out, &[]).status.code(), Some(1));
    let clone = cohort.out.join("repos");
    let first = read_json(&cohort.out.join("class.json"));
    let ann = PathBuf::from(first["repositories"][0]["path"].as_str().unwrap());
    assert!(ann.starts_with(&clone));
    // A mark in the clone's .git: kept only if the clone is reused.
    std::fs::write(ann.join(".git/tracelab-test-mark"), "").unwrap();
    // Ann fixes nothing but pushes a slip; the next run sees it.
    slip(&cohort.healthy);
    let pushed = commit(&cohort.healthy, "more tracing", "2023-03-03T10:00:00Z");
    assert_eq!(class(&cohort.list, &cohort.out, &[]).status.code(), Some(1));
    let second = read_json(&cohort.out.join("class.json"));
    assert_eq!(second["repositories"][0]["commit"], pushed.as_str());
    assert!(
        second["repositories"][0]["report"]["problems"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        ann.join(".git/tracelab-test-mark").exists(),
        "the clone was made again"
    );
}

#[test]
fn bad_input_is_exit_2_with_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("list.txt");
    std::fs::write(&empty, "# nobody yet\n").unwrap();
    let output = class(&empty, &root.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("names no repository"), "{stderr}");
    let missing = class(&root.path().join("nope.txt"), &root.path().join("out"), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the list"));
}

#[test]
fn a_cohort_with_no_problem_exits_0() {
    let root = tempfile::tempdir().unwrap();
    let ann = student(root.path(), "ann", "2023-03-01T10:00:00Z");
    let list = root.path().join("list.txt");
    std::fs::write(&list, format!("file://{}\n", ann.display())).unwrap();
    let output = class(&list, &root.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn chromium_shows_the_commonest_problem_and_links_each_finding_to_its_line() {
    let cohort = cohort();
    class(&cohort.list, &cohort.out, &[]);
    let page = cohort.out.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing fetched from the network.
    for remote in ["src=\"http", "href=\"http://", "<script src", "@import"] {
        assert!(!html.contains(remote), "{remote}");
    }
    let mut browser = Browser::start();
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": false}),
    );
    browser.open(&format!("file://{}", page.display()));
    browser.wait_for(
        "the page",
        Duration::from_secs(10),
        "document.readyState === 'complete'",
    );
    let facts = browser.eval(
        r#"(() => {
            const first = document.querySelector('#common tr:nth-child(2), #common + table tr:nth-child(2)');
            const cells = first ? [...first.querySelectorAll('td')].map(td => td.innerText.trim()) : [];
            const links = [...document.querySelectorAll('ul.findings a')].map(a => a.getAttribute('href'));
            const tiles = [...document.querySelectorAll('.tile b')].map(b => b.innerText);
            const explained = !!document.getElementById('check-python-undefined-name');
            const wide = document.documentElement.scrollWidth > window.innerWidth;
            return JSON.stringify({cells, links, tiles, explained, wide});
        })()"#,
    );
    let facts: serde_json::Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
    let cells = facts["cells"].as_array().unwrap();
    assert!(
        cells[0]
            .as_str()
            .unwrap()
            .starts_with("python-undefined-name"),
        "{facts:#}"
    );
    assert_eq!(cells[1], "2");
    assert_eq!(facts["tiles"], serde_json::json!(["1", "2", "1"]));
    assert_eq!(facts["explained"], true);
    assert_eq!(facts["wide"], false, "the page fits a laptop's width");
    // A local clone: each finding links to the file in it, beside the report.
    let links = facts["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("repos/")
                && l.as_str().unwrap().ends_with("backend-flask/app.py")),
        "{links:?}"
    );
    let shot = browser.screenshot();
    assert!(shot.len() > 10_000);
    if let Some(dir) = std::env::var_os("TRACELAB_SCREENSHOTS") {
        std::fs::write(Path::new(&dir).join("class.png"), shot).unwrap();
    }
}
