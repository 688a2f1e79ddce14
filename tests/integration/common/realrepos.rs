//! The real Week 2 student repositories some tests read, found through one
//! place: `$TRACELAB_REALREPOS`, else `../shared/realrepos` beside the
//! checkout, else `target/realrepos` (where `tests/fixtures/fetch-realrepos.sh`
//! puts them). Where none is there, a test that needs them says so by name,
//! with the command that gets them, and passes; where
//! `TRACELAB_REQUIRE_FIXTURES=1` (CI), it fails instead.

use std::io::Write;
use std::path::{Path, PathBuf};

pub const FETCH_COMMAND: &str = "tests/fixtures/fetch-realrepos.sh";

fn candidates() -> Vec<PathBuf> {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("TRACELAB_REALREPOS") {
        // A folder named on purpose is the only one looked at.
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![
            checkout.join("../shared/realrepos"),
            checkout.join("target/realrepos"),
        ],
    }
}

/// The fixtures' folder, or None after saying which test is skipped and why.
pub fn folder(test: &str) -> Option<PathBuf> {
    let candidates = candidates();
    if let Some(found) = candidates.iter().find(|d| d.is_dir()) {
        return Some(found.clone());
    }
    let looked = candidates
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        std::env::var("TRACELAB_REQUIRE_FIXTURES").as_deref() != Ok("1"),
        "{test}: the real-repository fixtures are required here (TRACELAB_REQUIRE_FIXTURES=1) and missing: looked in {looked}"
    );
    // Straight to stderr, as one write on a line of its own: the harness
    // captures `eprintln!` of a passing test (and a skip must be seen), and
    // tests running in parallel print between the pieces of a formatted write.
    let line = format!(
        "\nSKIPPED {test}: needs the real-repository fixtures (looked in {looked}); get them with: {FETCH_COMMAND}\n"
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    None
}

/// Copies one fixture repository to `to`, leaving out the labels (they are
/// not part of the student's repository).
pub fn copy_repo(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_repo(&entry.path(), &target);
        } else if !["EXPECTED.md", "SOURCE.txt", "expect.json"]
            .contains(&name.to_str().unwrap_or(""))
        {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
