//! `tracelab new`: collect answers, render the workspace, write it safely,
//! and say what to do next.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::answers::{Answers, AnswersFile, InvalidAnswer};
use crate::cli::NewArgs;
use crate::doctor;
use crate::exit::ExitStatus;
use crate::prompts;
use crate::scaffold::base;
use crate::scaffold::merge::{self, ConflictMode, Outcome};
use crate::scaffold::render::project_slug;
use crate::scaffold::workflow;
use crate::scaffold::write::{self, target_state};
use crate::scaffold::{FileStatus, PlannedFile, TargetState, render_workspace};
use crate::style::{CODE, DIM, HEADING, OK, WARN, paint, write_at_once};
use crate::vars::needed_for;
use crate::workspace::context::Options;

const QUICK_CHECK: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

pub fn run(args: NewArgs) -> Result<ExitStatus> {
    let answers = collect_answers(&args)?;
    let target = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(project_slug(&answers.project_name)));
    // "My Lab" becomes my-lab/: say so, or the student looks for "My Lab".
    if args.dir.is_none() && target.as_os_str() != answers.project_name.as_str() && !args.json {
        anstream::println!(
            "{} {} (from the project name {:?})",
            paint(DIM, "Directory:"),
            target.display(),
            answers.project_name
        );
    }
    let state = target_state(&target)?;
    if state == TargetState::NonEmpty && !args.force && !args.dry_run {
        bail!(
            "{} is not empty: pass --force to merge tracelab's files into it \
             (your edits are kept; a conflict gets markers, and edited files a backup), or choose another directory",
            target.display()
        );
    }
    if state == TargetState::NonEmpty {
        return merge_into_existing(&target, &answers, &args);
    }
    let rendered = render_workspace(&answers)?;
    let plan = write::plan(&target, rendered.clone())?;
    if !args.dry_run {
        // What tracelab wrote is the base of every later merge: staged with
        // the workspace and moved into place with it in one rename, so the
        // workspace and its bases exist together or not at all (and no
        // per-file fsync: this was most of new's time).
        let bases = rendered
            .iter()
            .map(|file| (file.path.clone(), file.contents.clone()))
            .collect();
        let staged: Vec<write::PlannedFile> = plan
            .iter()
            .cloned()
            .chain([write::PlannedFile {
                path: base::BASE_FILE.to_string(),
                status: write::FileStatus::Create,
                contents: base::render(&bases)?,
            }])
            .collect();
        write::write(&target, &staged, crate::interrupt::flag())?;
    }
    let mut report = Report::new(&target, &answers, &plan, args.dry_run, state);
    // The quick check reads no external command: it stays within milliseconds.
    // Its problems (a key not set yet) are expected, so they never fail `new`.
    let check = (!args.dry_run && !args.no_check)
        .then(|| doctor::diagnose(&target, QUICK_CHECK, Default::default()).ok())
        .flatten();
    if args.json {
        report.check = check.as_deref().map(serde_json::to_value).transpose()?;
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print_human();
        if let Some(findings) = &check {
            println!();
            doctor::report::print_short(&target, findings);
        }
    }
    Ok(ExitStatus::Success)
}

/// `new --force` into a folder with files: never a silent overwrite. Each
/// file is merged three ways with what tracelab wrote last (or, in a folder
/// it did not make, an edited file becomes a conflict with both versions),
/// and every file that held an edit is copied to .tracelab/backup/ first.
fn merge_into_existing(target: &Path, answers: &Answers, args: &NewArgs) -> Result<ExitStatus> {
    let merge_args = workflow::Request {
        dry_run: args.dry_run,
        conflict: ConflictMode::Markers,
        recreate: false,
        yes: true,
        json: args.json,
    };
    let plans = workflow::plan_merge(target, answers, &merge_args)?;
    if args.dry_run {
        workflow::print_plan(target, &plans, &merge_args, true);
        for plan in &plans {
            print!("{}", plan.diff());
        }
        return Ok(ExitStatus::Success);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let backup_rel = format!(".tracelab/backup/{stamp}");
    let backup = target.join(&backup_rel);
    let mut backups = write::ChangeSet::new(target);
    for plan in plans
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Merge | Outcome::Conflict))
    {
        if let Some(current) = &plan.current {
            let rel = write::safe_relative(&plan.path)?;
            backups.write(
                &format!("{backup_rel}/{}", rel.display()),
                current.as_bytes(),
            )?;
        }
    }
    backups.commit()?;
    merge::apply(target, &plans)?;
    workflow::print_plan(target, &plans, &merge_args, false);
    let conflicts = plans.iter().any(|p| p.outcome == Outcome::Conflict);
    if backup.is_dir() && !args.json {
        anstream::println!(
            "{} your edited files as they were: {}",
            paint(DIM, "Backup of"),
            backup.display()
        );
    }
    Ok(ExitStatus::problems_if(conflicts))
}

/// Answers come from the defaults, then the answers file, then each `--set`;
/// only a terminal session asks for the rest.
fn collect_answers(args: &NewArgs) -> Result<Answers> {
    let mut answers = Answers::defaults(args.dir.as_deref());
    if let Some(path) = &args.answers {
        read_answers_file(path)?
            .apply(&mut answers)
            .map_err(|e| input_error(e, &format!("in {}", path.display())))?;
    }
    let mut preset = HashSet::new();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set expects KEY=VALUE, got {pair:?} (for example --set port=4567)");
        };
        let key = key.trim();
        answers
            .set(key, value)
            .map_err(|e| input_error(e, &format!("from --set {pair}")))?;
        preset.insert(key.to_string());
    }
    if args.defaults || args.answers.is_some() {
        answers
            .validate()
            .map_err(|e| input_error(e, "in the combined answers"))?;
        return Ok(answers);
    }
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        bail!(
            "no terminal to ask questions on: pass --defaults to take every default \
             (add --set KEY=VALUE to change one), or --answers FILE.yml"
        );
    }
    // Ctrl-C while a question is on screen: restore the cursor and stop.
    crate::interrupt::while_asking(|| prompts::ask(answers, &preset))
}

fn read_answers_file(path: &Path) -> Result<AnswersFile> {
    let text = crate::workspace::read::text(path).map_err(|e| {
        let shown = path.display().to_string();
        let why = format!("{e:#}").replacen(&shown, &format!("the answers file {shown}"), 1);
        anyhow::anyhow!(why)
    })?;
    AnswersFile::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "cannot use the answers file {}: {e}\n  the keys are: {}",
            path.display(),
            crate::answers::KEYS.join(", ")
        )
    })
}

fn input_error(error: InvalidAnswer, source: &str) -> anyhow::Error {
    anyhow::anyhow!("{error} ({source}); nothing was written")
}

#[derive(Serialize)]
struct Report {
    dir: String,
    dry_run: bool,
    files: Vec<FileEntry>,
    next_steps: Vec<String>,
    /// The offline doctor's findings on the new workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<serde_json::Value>,
    #[serde(skip)]
    refused_without_force: bool,
}

#[derive(Serialize)]
struct FileEntry {
    path: String,
    status: FileStatus,
}

impl Report {
    fn new(
        target: &Path,
        answers: &Answers,
        plan: &[PlannedFile],
        dry_run: bool,
        state: TargetState,
    ) -> Self {
        Report {
            dir: target.display().to_string(),
            dry_run,
            files: plan
                .iter()
                .map(|f| FileEntry {
                    path: f.path.clone(),
                    status: f.status,
                })
                .collect(),
            next_steps: next_steps(target, answers),
            check: None,
            refused_without_force: dry_run && state == TargetState::NonEmpty,
        }
    }

    fn print_human(&self) {
        write_at_once(|out| self.write_human(out));
    }

    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let count = |status| self.files.iter().filter(|f| f.status == status).count();
        let verb = if self.dry_run { "Would write" } else { "Wrote" };
        writeln!(
            out,
            "{} {} ({} new, {} updated, {} unchanged)",
            paint(HEADING, verb),
            self.dir,
            count(FileStatus::Create),
            count(FileStatus::Update),
            count(FileStatus::Unchanged)
        )?;
        for file in &self.files {
            let mark = match file.status {
                FileStatus::Create => paint(OK, "+"),
                FileStatus::Update => paint(WARN, "~"),
                FileStatus::Unchanged => paint(DIM, "="),
            };
            writeln!(out, "  {mark} {}", file.path)?;
        }
        if self.refused_without_force {
            writeln!(
                out,
                "{}",
                paint(WARN, "The directory is not empty: writing needs --force.")
            )?;
        }
        if self.dry_run {
            writeln!(out, "{}", paint(DIM, "Dry run: nothing was written."))?;
            return Ok(());
        }
        writeln!(out, "\n{}", paint(HEADING, "Next steps"))?;
        for (i, step) in self.next_steps.iter().enumerate() {
            let mut lines = step.lines();
            writeln!(out, "  {}. {}", i + 1, lines.next().unwrap_or_default())?;
            for line in lines {
                writeln!(out, "       {}", paint(CODE, line))?;
            }
        }
        Ok(())
    }
}

/// The exact commands, in order, fitted to where the student is: in Gitpod
/// a secret is read hidden, with a prompt that says what it waits for, and
/// persisted with `gp env`; elsewhere `tracelab env set` asks and keeps it
/// in `.env`. Without Docker, `tracelab run` starts the backend.
fn next_steps(target: &Path, answers: &Answers) -> Vec<String> {
    let in_gitpod = std::env::var_os("GITPOD_WORKSPACE_ID").is_some();
    let dir = crate::shell::quote(&target.display().to_string());
    // Every later step runs in the workspace.
    let mut steps = vec![format!("Go into the workspace:\ncd {dir}")];
    let needed = needed_for(&answers.backends);
    if !needed.is_empty() {
        let mut step = if in_gitpod {
            String::from(
                "Set each secret in this shell (paste it, then Enter) and persist it for new Gitpod workspaces:",
            )
        } else {
            String::from("Set each secret (asked hidden, kept in .env, which git ignores):")
        };
        for var in &needed {
            let name = var.name;
            if in_gitpod {
                let flag = if var.secret { "-rsp" } else { "-rp" };
                step.push_str(&format!(
                    "\nread {flag} 'Paste {name}: ' {name} && export {name}\ngp env {name}=\"${name}\""
                ));
            } else {
                step.push_str(&format!("\ntracelab env set {name}"));
            }
        }
        steps.push(step);
    }
    steps.push("Check every layer before you start:\ntracelab doctor".to_string());
    let docker = format!(
        "docker compose up --build\ncurl http://localhost:{}/api/activities/home",
        answers.port
    );
    let without_docker =
        "Start the backend without Docker, its spans printed here (then open /api/activities/home):\ntracelab run".to_string();
    let in_docker = format!("Start the backend in Docker and make a trace:\n{docker}");
    if in_gitpod {
        steps.push(in_docker);
        steps.push(format!(
            "Or {}",
            without_docker[..1].to_lowercase() + &without_docker[1..]
        ));
    } else {
        steps.push(without_docker);
        steps.push(format!(
            "Or {}",
            in_docker[..1].to_lowercase() + &in_docker[1..]
        ));
    }
    if answers.has(crate::backend::Backend::Local) {
        steps.push(
            "See the spans in Jaeger on port 16686, or in this terminal (see README.md):\ntracelab listen --host 0.0.0.0"
                .to_string(),
        );
    }
    steps
}
