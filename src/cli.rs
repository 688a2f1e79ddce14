//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tracelab",
    version,
    about = "Scaffold a Week 2 distributed-tracing workspace, and find out why no span arrives.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Each command's arguments are built only when it is the one run: the
// whole tree was most of a parse, 5% of an offline doctor (`perf`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a Flask workspace wired for OpenTelemetry, Honeycomb, X-Ray, CloudWatch and Rollbar.
    New(NewArgs),
    /// Add backends to a workspace (xray, cloudwatch, rollbar; honeycomb or local switches where spans go), keeping your edits.
    Add(AddArgs),
    /// Re-render the workspace with changed answers or newer templates, merged into your files.
    Update(UpdateArgs),
    /// Find every reason spans will not arrive, in every layer, with the fix.
    Doctor(DoctorArgs),
    /// Run the backend on this machine, without Docker, and see its spans.
    Run(RunArgs),
    /// Receive OTLP/HTTP traces locally: whole traces as trees, and a web view to look at them.
    Listen(ListenArgs),
    /// Replay saved traces (listen --save, the Collector's file exporter) as trees, JSON lines or the web view.
    Show(ShowArgs),
    /// Diagnose a whole cohort's repositories (URLs or folders, cloned in parallel) into one report: class.json, class.csv, index.html.
    Class(ClassArgs),
    /// Set a secret once in every layer, list where each variable is set, or check them.
    Env(EnvArgs),
    /// Print a shell completion script: tracelab completions bash > ~/.local/share/bash-completion/completions/tracelab
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one per command into a folder: tracelab man --dir ~/.local/share/man/man1
    Man(ManArgs),
}

impl Command {
    /// Commands that must go on when their reader goes away (a receiver
    /// piped into `head` keeps receiving); they ignore failed writes.
    pub fn keeps_running(&self) -> bool {
        matches!(self, Command::Listen(_) | Command::Run(_))
    }
}

/// `--set KEY=VALUE`: any text (the answers check it, with their own
/// message), offered to shell completion as `KEY=` for every answer key.
#[derive(Debug, Clone, Copy)]
pub struct AnswerSetting;

impl clap::builder::TypedValueParser for AnswerSetting {
    type Value = String;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::answers::KEYS.iter().map(|key| {
            clap::builder::PossibleValue::new(format!("{key}="))
        })))
    }
}

/// A check id (`--explain`, `--ignore`), completed from the catalogue; an
/// unknown one is refused by the doctor, which names the nearest.
#[derive(Clone)]
pub struct CheckIdArg;

impl clap::builder::TypedValueParser for CheckIdArg {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        AnswerSetting.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let ids = crate::doctor::catalogue::CheckId::ALL.iter();
        Some(Box::new(
            ids.map(|id| clap::builder::PossibleValue::new(id.as_str())),
        ))
    }
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write tracelab.1 and a page per command (tracelab-new.1, ...) into this folder, made if missing.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_help = crate::answers::keys_help())]
pub struct NewArgs {
    /// Directory to create [default: ./<project name>]
    pub dir: Option<PathBuf>,

    /// Take every default answer without asking (for Gitpod prebuilds and CI).
    #[arg(long)]
    pub defaults: bool,

    /// Override one answer, e.g. --set backends=honeycomb,xray (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = AnswerSetting, hide_possible_values = true)]
    pub set: Vec<String>,

    /// Read answers from a YAML file, such as a workspace's .tracelab.yml.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Show the files that would be written, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write into a non-empty directory: each file that differs is merged with your edits (conflicts marked), never silently replaced.
    #[arg(long)]
    pub force: bool,

    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,

    /// Skip the offline doctor run at the end.
    #[arg(long)]
    pub no_check: bool,
}

/// How `add` and `update` merge: the same for both.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The workspace (the folder with .tracelab.yml) [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print the unified diff of every change, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How to leave a conflict: diff3 markers in the file, or the file as it is and a FILE.rej beside it.
    #[arg(long, value_enum, default_value = "markers")]
    pub conflict: ConflictArg,

    /// Bring back generated files you deleted (otherwise they stay deleted).
    #[arg(long)]
    pub recreate: bool,

    /// Write without asking (for scripts; without a terminal it is required).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--conflict`: the scaffold's ConflictMode, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConflictArg {
    /// diff3 markers in the file (ours, the original, theirs).
    Markers,
    /// The file stays as it is; the change that did not apply goes to FILE.rej.
    Rej,
}

impl MergeArgs {
    /// What the scaffold's merge workflow is asked to do.
    pub fn request(&self) -> crate::scaffold::workflow::Request {
        use crate::scaffold::merge::ConflictMode;
        crate::scaffold::workflow::Request {
            dry_run: self.dry_run,
            yes: self.yes,
            json: self.json,
            conflict: match self.conflict {
                ConflictArg::Markers => ConflictMode::Markers,
                ConflictArg::Rej => ConflictMode::Rej,
            },
            recreate: self.recreate,
        }
    }
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Backends to add: xray, cloudwatch, rollbar; honeycomb or local (replaces the other).
    #[arg(required = true, value_name = "BACKEND", value_parser = ["honeycomb", "local", "xray", "cloudwatch", "rollbar"])]
    pub backends: Vec<String>,

    #[command(flatten)]
    pub merge: MergeArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Change one recorded answer, e.g. --set port=5000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = AnswerSetting, hide_possible_values = true)]
    pub set: Vec<String>,

    #[command(flatten)]
    pub merge: MergeArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The workspace: the folder with docker-compose.yml [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print one JSON object: {"problems", "warnings", "checks": [...]} (short for --output-format json).
    #[arg(long, conflicts_with = "output_format")]
    pub json: bool,

    /// How to print the report: for people, for scripts, or for CI (GitHub annotations, SARIF 2.1.0, JUnit XML).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub output_format: Option<OutputFormat>,

    /// Resolve the compose file with tracelab's own resolver, even when Compose is installed.
    #[arg(long)]
    pub builtin_resolver: bool,

    /// Judge the repository alone, not this machine: the student's secrets are taken as set and well formed, and no shell, Gitpod or container is read (CI, pre-commit and `tracelab class` do this).
    #[arg(long, conflicts_with_all = ["online", "deep"])]
    pub repository: bool,

    /// Also ask Honeycomb who each key belongs to, and send one real test span.
    #[arg(long)]
    pub online: bool,

    /// Also start the backend as `tracelab run` does, ask each GET route, and report the spans and X-Ray segments that arrive (nothing leaves the machine unless --online).
    #[arg(long)]
    pub deep: bool,

    /// Seconds each online request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,

    /// Do not report this check (repeat for more); .tracelab.yml can list them under doctor: ignore:.
    #[arg(long, value_name = "ID", value_parser = CheckIdArg, hide_possible_values = true)]
    pub ignore: Vec<String>,

    /// Print what a check means, what it reports when, and how to silence it, then exit (`all`: every check; with --json, as data).
    #[arg(long, value_name = "ID", value_parser = CheckIdArg, hide_possible_values = true)]
    pub explain: Option<String>,

    /// Make the fixes that are file edits (shown as a diff, asked first), then check again; commands for your shell are printed.
    #[arg(long)]
    pub fix: bool,

    /// With --fix: show the diff and write nothing.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,

    /// With --fix: write without asking (for scripts; without a terminal it is required).
    #[arg(long, short = 'y', requires = "fix")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ClassArgs {
    /// The cohort: one repository URL or folder a line (# comments), or a CSV with a repo column.
    #[arg(value_name = "LIST")]
    pub list: PathBuf,

    /// Where the report goes (class.json, class.csv, index.html), and the clones under repos/ (reused next time).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Repositories fetched and diagnosed at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Diagnose the last commit before this date (2023-03-05, or "2023-03-05 23:59 -0500"), as git reads it.
    #[arg(long, value_name = "DATE")]
    pub before: Option<String>,

    /// Seconds one clone or fetch may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,

    /// Resolve compose files with tracelab's own resolver, even when Compose is installed.
    #[arg(long)]
    pub builtin_resolver: bool,

    /// Print class.json to stdout as well.
    #[arg(long)]
    pub json: bool,
}

/// `doctor --output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The report for people, grouped by section.
    Text,
    /// One JSON object, as --json.
    Json,
    /// GitHub Actions workflow commands: one annotation per problem and warning.
    Github,
    /// SARIF 2.1.0, for code scanning and editors.
    Sarif,
    /// JUnit XML, for CI dashboards.
    Junit,
}

impl DoctorArgs {
    /// The report's format: --json is --output-format json.
    pub fn format(&self) -> OutputFormat {
        match (self.json, self.output_format) {
            (true, _) => OutputFormat::Json,
            (false, Some(format)) => format,
            (false, None) => OutputFormat::Text,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workspace [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Run the production entry point (Dockerfile.prod's gunicorn) instead of Flask's dev server.
    #[arg(long)]
    pub prod: bool,

    /// Show the spans here too, passing every request on to where the workspace sends them.
    #[arg(long)]
    pub listen: bool,

    /// Print one JSON object per span per line instead of trees.
    #[arg(long)]
    pub json: bool,

    /// Start even when the offline doctor finds problems.
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = crate::ports::LISTEN_OTLP)]
    pub port: u16,

    /// Address to listen on; 0.0.0.0 lets containers reach it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Print one JSON object per span per line.
    #[arg(long)]
    pub json: bool,

    /// Also append every request to FILE as a line of OTLP/JSON (replay it with tracelab show).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Port of the web view; 0 picks a free one [default: 4320, or a free one when 4320 is taken]
    #[arg(long, value_name = "PORT")]
    pub web_port: Option<u16>,

    /// Do not serve the web view.
    #[arg(long)]
    pub no_web: bool,

    /// Also answer requests whose Host is NAME (beyond localhost, IP addresses, host.docker.internal and Gitpod's or Codespaces' forwarded address). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,

    /// Keep the last N traces; older ones are dropped (and counted).
    #[arg(long, default_value_t = crate::listen::store::DEFAULT_CAPACITY, value_name = "N")]
    pub keep: usize,

    /// Keep at most this much memory of spans (256M, 1G, 512K, or bytes); the oldest traces are dropped (and counted).
    #[arg(long, default_value = "256M", value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: usize,

    /// Honeycomb key to link each trace to Honeycomb's UI [default: the one the app sends, read as the doctor reads it].
    #[arg(long, value_name = "KEY")]
    pub honeycomb: Option<String>,

    /// Seconds a trace missing a parent waits before it is printed as it is.
    #[arg(long, default_value_t = 6.0, value_name = "SECS")]
    pub wait_for_parent: f64,

    /// Seconds a client may take to send a request's headers, then its body.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub read_timeout: f64,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Files of OTLP/JSON lines: from listen --save, or the Collector's file exporter.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print one JSON object per span per line instead of trees (with --query: the query's results as one object).
    #[arg(long)]
    pub json: bool,

    /// Run a Honeycomb query over the spans: its Query Specification as JSON, or @FILE (e.g. '{"calculations":[{"op":"P90","column":"duration_ms"}]}').
    #[arg(long, value_name = "SPEC", conflicts_with = "web")]
    pub query: Option<String>,

    /// Serve the traces in the web view instead of printing them (Ctrl-C stops).
    #[arg(long)]
    pub web: bool,

    /// Port of the web view; 0 picks a free one [default: 4320, or a free one when 4320 is taken]
    #[arg(long, value_name = "PORT")]
    pub web_port: Option<u16>,

    /// Address of the web view.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Also answer requests whose Host is NAME (beyond localhost, IP addresses and Gitpod's or Codespaces' forwarded address). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    pub command: EnvCommand,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Ask for a value (hidden; or read stdin), check it, save it in Gitpod and .env.
    Set(EnvSetArgs),
    /// Show every variable the workspace needs and where each is set (fingerprints).
    List(EnvListArgs),
    /// The environment checks of `tracelab doctor`.
    Check(EnvCheckArgs),
}

#[derive(Debug, Args)]
pub struct EnvSetArgs {
    /// The variable, e.g. HONEYCOMB_API_KEY.
    pub name: String,

    /// The workspace whose .env to update [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Accept a value whose shape looks wrong (with a warning), or an unknown name.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct EnvListArgs {
    /// The workspace [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnvCheckArgs {
    /// The workspace [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print JSON, as `tracelab doctor --json` does.
    #[arg(long)]
    pub json: bool,
}

/// `256M`, `1G`, `512K` (or with `B`, `iB`), or a number of bytes.
fn parse_size(text: &str) -> Result<usize, String> {
    let upper = text.trim().to_ascii_uppercase();
    let number_end = upper
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(number_end);
    let shift = match unit.trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => {
            return Err(format!(
                "{text:?} is not a size: give bytes, or a number with K, M or G"
            ));
        }
    };
    let size = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?} is not a size: give bytes, or a number with K, M or G"))?;
    if size < 1 << 20 {
        return Err(format!("{text:?} is under 1M: too little to keep a trace"));
    }
    Ok(size)
}

#[cfg(test)]
mod size_tests {
    use super::parse_size;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("2048KiB"), Ok(2 << 20));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("12").unwrap_err().contains("under 1M"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
