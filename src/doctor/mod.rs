//! `tracelab doctor`: reads every layer a variable passes through on its way
//! into the app, runs the checklist, and reports each problem with its fix.

pub mod catalogue;
pub mod checks;
pub mod deep;
pub mod finding;
pub mod fix;
pub mod formats;
pub mod online;
pub mod report;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::exit::ExitStatus;
use crate::workspace::context::{Context, Options, Spare};
use finding::{CheckId, Finding, Status};

/// How far the doctor goes beyond reading the workspace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reach {
    /// Ask the network (Honeycomb's auth, one real span), each request
    /// within this long.
    pub online: Option<Duration>,
    /// Start the backend and watch what it sends (`--deep`).
    pub deep: bool,
}

/// Runs every check on the workspace at `dir`, with this process's
/// environment as the shell (or, for the repository alone, a stand-in);
/// then what `reach` asks for.
pub fn diagnose(dir: &Path, options: Options, reach: Reach) -> Result<Vec<Finding>> {
    let shell = if options.repository_only {
        crate::workspace::layers::stand_in_shell()
    } else {
        crate::workspace::layers::shell_env()
    };
    // Reading and checking write nothing: each file is read once.
    let (contexts, mut findings) = crate::workspace::read::once_each(|| {
        Context::load_all_then(dir, shell, options, check_with)
    })?;
    if options.repository_only {
        // What it found of the stand-in shell is not about the repository.
        findings.retain(|f| f.layer != crate::workspace::layers::Layer::Shell);
    }
    if let Some(timeout) = reach.online {
        findings.extend(online::run(&contexts[0], timeout));
    }
    if reach.deep {
        let probed = deep::probe(&contexts[0], reach.online.is_some())?;
        let probed = deep::as_confirmations(probed, &mut findings);
        findings.extend(probed);
    }
    Ok(findings)
}

/// The checklist on every configuration of a workspace already read, each
/// finding once, with paths relative to the workspace.
pub fn check(contexts: &[Context]) -> Vec<Finding> {
    check_with(contexts, &Spare::none())
}

/// `check`, with the other core for what runs on its own.
fn check_with<'a>(contexts: &'a [Context], spare: &Spare<'a>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for ctx in contexts {
        // A variant compose file that wires no tracing at all is a run
        // without it, by choice (a week-1 or local experiment): said once,
        // not judged setting by setting.
        let same_code = !ctx.primary && contexts[0].backend_dir == ctx.backend_dir;
        let found = match checks::untraced_variant(ctx) {
            Some(note) => vec![note],
            // Its code was checked with the default configuration.
            None if same_code => checks::run_all_but_code(ctx),
            None => checks::run_all_sharing(ctx, spare),
        };
        for mut finding in found {
            // What does not depend on the configuration (the shell, .env,
            // the code) is the same finding in each: report it once.
            if findings
                .iter()
                .any(|f| f.id == finding.id && f.message == finding.message)
            {
                continue;
            }
            if !ctx.primary {
                finding.group = variant_group(ctx, finding.group);
            }
            findings.push(finding);
        }
    }
    if let Some(ctx) = contexts.first() {
        relative_paths(&ctx.dir, &mut findings);
    }
    one_verdict_per_variable(&mut findings);
    same_mistake_once(&mut findings);
    findings
}

/// The same mistake in several places (a pattern copied into every
/// service) is one finding that lists them, not one per copy. Findings a
/// program fixes stay apart: each has its own edit.
fn same_mistake_once(findings: &mut Vec<Finding>) {
    let shape = |f: &Finding| finding::without_places(&f.message);
    // A finding's shape is computed only once another of its id, status and
    // section is kept: most runs have no two.
    let mut kept: Vec<(Finding, Option<String>, Vec<String>)> = Vec::new();
    for finding in findings.drain(..) {
        let merged = finding.apply.is_none()
            && matches!(finding.status, Status::Fail | Status::Warn | Status::Info);
        let same_kind = |k: &Finding| {
            k.apply.is_none()
                && (k.id, k.status, k.group) == (finding.id, finding.status, finding.group)
        };
        if !merged || !kept.iter().any(|(k, _, _)| same_kind(k)) {
            kept.push((finding, None, Vec::new()));
            continue;
        }
        let shaped = shape(&finding);
        let twin = kept.iter_mut().position(|(k, k_shape, _)| {
            same_kind(k) && *k_shape.get_or_insert_with(|| shape(k)) == shaped
        });
        // Written as the message writes it (`./backend-flask/...`).
        let place = finding::Location::all_in(&finding.message).next().map(|l| {
            let dotted = format!("./{}:{}", l.file, l.line);
            match finding.message.contains(&dotted) {
                true => dotted,
                false => format!("{}:{}", l.file, l.line),
            }
        });
        match (twin, place) {
            (Some(twin), Some(place)) => kept[twin].2.push(place),
            _ => kept.push((finding, Some(shaped), Vec::new())),
        }
    }
    findings.extend(kept.into_iter().map(|(mut finding, _, places)| {
        if !places.is_empty() {
            finding.message.push_str(&format!(
                "; the same in {} more place{}: {}",
                places.len(),
                if places.len() == 1 { "" } else { "s" },
                places.join(", ")
            ));
            if let Some(fix) = &mut finding.fix {
                fix.push_str("   # and the same at each place listed");
            }
        }
        finding
    }));
}

/// A variable with a problem or a warning in a section has no passing line
/// there too (`!` and `✓` for the same AWS_ACCESS_KEY_ID said both).
fn one_verdict_per_variable(findings: &mut Vec<Finding>) {
    let flagged: Vec<(String, &'static str)> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .filter_map(|f| Some((f.variable.clone()?, f.group)))
        .collect();
    findings.retain(|f| {
        f.status != Status::Ok
            || f.variable
                .as_ref()
                .is_none_or(|v| !flagged.iter().any(|(w, g)| w == v && *g == f.group))
    });
}

/// The report's title names the workspace: its files are shown relative
/// to it (`backend-flask/app.py:97`), as a student sees them in the editor.
fn relative_paths(dir: &Path, findings: &mut [Finding]) {
    let shown = dir.display().to_string();
    if shown == "." || shown.is_empty() {
        return;
    }
    let prefix = format!("{}/", shown.trim_end_matches('/'));
    for finding in findings {
        finding.message = finding.message.replace(&prefix, "");
        if let Some(fix) = &mut finding.fix {
            *fix = fix.replace(&prefix, "");
        }
    }
}

/// A report section for a variant configuration: "Honeycomb (docker-compose.local.yml)".
fn variant_group(ctx: &Context, group: &'static str) -> &'static str {
    let file = ctx
        .compose
        .as_ref()
        .and_then(|c| c.file.path.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A handful of sections per variant, for the life of the process.
    Box::leak(format!("{group} ({file})").into_boxed_str())
}

/// The ids to silence: `--ignore` and `doctor: {ignore: [...]}` in the
/// workspace's `.tracelab.yml`; an id no check has is refused, not ignored.
pub fn ignored_ids(dir: &Path, from_command_line: &[String]) -> Result<Vec<CheckId>> {
    let answers = dir.join(crate::scaffold::manifest::ANSWERS_FILE);
    let mut ids = from_command_line.to_vec();
    if answers.is_file() {
        let text = crate::workspace::read::text(&answers)?;
        let file = crate::answers::AnswersFile::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", answers.display()))?;
        ids.extend(file.doctor_ignore().iter().cloned());
    }
    ids.iter().map(|id| parse_id(id)).collect()
}

/// The check named `id`, or an error that names the nearest ones.
pub fn parse_id(id: &str) -> Result<CheckId> {
    if let Some(check) = CheckId::parse(id) {
        return Ok(check);
    }
    let near: Vec<&str> = CheckId::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| {
            crate::rules::names::edit_distance(c, id) <= 3
                || c.starts_with(id)
                // `xray-region` for xray-daemon-region: every word in it.
                || id.split('-').all(|word| c.split('-').any(|w| w == word))
        })
        .collect();
    anyhow::bail!(
        "no check is called {id:?}{}: tracelab doctor --explain ID describes one",
        if near.is_empty() {
            String::new()
        } else {
            format!(" (did you mean {}?)", near.join(", "))
        }
    )
}

/// The findings without those of ignored checks, and how many problems,
/// warnings and notes were left out (kept lines are never counted).
pub fn without_ignored(findings: Vec<Finding>, ignore: &[CheckId]) -> (Vec<Finding>, usize) {
    let (ignored, kept): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| ignore.contains(&f.id));
    let counted = ignored
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Info))
        .count();
    (kept, counted)
}

pub fn exit_status(findings: &[Finding]) -> ExitStatus {
    ExitStatus::problems_if(findings.iter().any(|f| f.status == Status::Fail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::Layer;

    #[test]
    fn a_variable_with_a_warning_has_no_passing_line_beside_it() {
        let mut findings = vec![
            Finding::warn(CheckId::EnvShape, Layer::DotEnv, "odd shape").var("AWS_ACCESS_KEY_ID"),
            Finding::ok(CheckId::EnvSet, Layer::DotEnv, "set").var("AWS_ACCESS_KEY_ID"),
            Finding::ok(CheckId::EnvSet, Layer::DotEnv, "set").var("AWS_DEFAULT_REGION"),
        ];
        one_verdict_per_variable(&mut findings);
        let kept: Vec<(CheckId, Option<&str>)> = findings
            .iter()
            .map(|f| (f.id, f.variable.as_deref()))
            .collect();
        assert_eq!(
            kept,
            [
                (CheckId::EnvShape, Some("AWS_ACCESS_KEY_ID")),
                (CheckId::EnvSet, Some("AWS_DEFAULT_REGION")),
            ]
        );
    }

    #[test]
    fn the_same_mistake_in_several_places_is_one_finding_that_lists_them() {
        use finding::{Edit, Layer};
        let at = |file: &str, line: usize, exit: usize| {
            Finding::fail(
                CheckId::CodeXraySubsegment,
                Layer::Code,
                format!("./{file}:{line}: begin_subsegment() is not ended (the return at line {exit} leaves it open)"),
            )
            .fix(format!("./{file}:{line}: use `with`"))
        };
        let edited = Finding::fail(
            CheckId::CodeXraySubsegment,
            Layer::Code,
            "./d.py:4: begin_subsegment() is not ended (the return at line 9 leaves it open)",
        )
        .edit(Edit::insert(std::path::Path::new("d.py"), 5, "x"));
        let other = Finding::fail(
            CheckId::CodeXraySegment,
            Layer::Code,
            "./e.py:1: begin_segment()",
        );
        let mut findings = vec![
            at("a.py", 3, 8),
            at("b.py", 10, 12),
            other,
            at("c.py", 7, 9),
            edited,
        ];
        same_mistake_once(&mut findings);
        assert_eq!(findings.len(), 3, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .ends_with("; the same in 2 more places: ./b.py:10, ./c.py:7"),
            "{}",
            findings[0].message
        );
        // A finding with its own edit stays apart.
        assert!(findings[2].apply.is_some());
    }
}
