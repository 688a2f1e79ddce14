//! Files a workspace makes when it starts, and so a checkout lacks: from
//! Week 4 on `.gitpod.yml` runs `bin/backend/generate-env`, a Ruby script
//! that renders `erb/backend-flask.env.erb` into `backend-flask.env` (which
//! is gitignored) for compose's `env_file:`. The template is read as the
//! file it makes, its `<%= ENV['X'] %>` filled from the student's layers,
//! so the configuration is whole; and a generator that cannot make the
//! file (run by bash, or reading its template from the wrong folder) says
//! why.

use std::path::{Path, PathBuf};

use super::lexically_normal;

/// A file a start-up task generates.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    /// Where the script writes it (from the folder the task runs it in).
    pub output: PathBuf,
    /// The ERB template it renders, where it is in the repository.
    pub template: Option<PathBuf>,
    /// The script, as the task names it.
    pub script: String,
    /// `.gitpod.yml:46`: where the task runs it.
    pub run_at: String,
    /// Why the task does not make the file, if it does not.
    pub problem: Option<String>,
}

impl GeneratedFile {
    /// The template rendered as Ruby's ERB would, for the `ENV` lookups a
    /// generator holds: each `<%= ENV['X'] %>` (or `ENV["X"]`,
    /// `ENV.fetch('X')`) is X's value from `lookup`, or empty; any other
    /// tag renders as nothing.
    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let text = crate::workspace::read::text(self.template.as_ref()?).ok()?;
        let mut rendered = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(open) = rest.find("<%") {
            rendered.push_str(&rest[..open]);
            let Some(close) = rest[open..].find("%>") else {
                rest = &rest[open..]; // never closed: text, as ERB leaves it
                break;
            };
            let tag = &rest[open + 2..open + close];
            if let Some(name) = tag.strip_prefix('=').and_then(env_lookup) {
                rendered.push_str(&lookup(name).unwrap_or_default());
            }
            rest = &rest[open + close + 2..];
        }
        rendered.push_str(rest);
        Some(rendered)
    }
}

/// The variable an ERB expression reads: `ENV['X']`, `ENV["X"]`,
/// `ENV.fetch('X', ...)`, with spaces and a trailing `-` around it.
fn env_lookup(expression: &str) -> Option<&str> {
    let expression = expression.trim();
    let expression = expression
        .strip_suffix('-')
        .unwrap_or(expression)
        .trim_end();
    let after_env = expression.strip_prefix("ENV")?;
    let (inside, close) = match after_env.strip_prefix('[') {
        Some(inside) => (inside, ']'),
        None => (after_env.strip_prefix(".fetch(")?, ')'),
    };
    let name = quoted(inside.trim_start())?;
    let after_name = &inside.trim_start()[name.len() + 2..];
    let closed = match close {
        ']' => after_name.trim() == "]",
        _ => after_name
            .find(')')
            .is_some_and(|end| after_name[end + 1..].is_empty()),
    };
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (closed && identifier).then_some(name)
}

/// Every file the workspace's `.gitpod.yml` tasks generate with an ERB
/// script of the repository (`text`, and `yaml` as it is parsed).
pub fn find(dir: &Path, text: &str, yaml: &serde_yaml::Value) -> Vec<GeneratedFile> {
    let path = dir.join(".gitpod.yml");
    let tasks = yaml
        .get("tasks")
        .and_then(|t| t.as_sequence())
        .cloned()
        .unwrap_or_default();
    let mut found = Vec::new();
    for task in &tasks {
        // A task's shell runs `before`, `init` and `command` in turn, in
        // the repository's folder.
        let mut cwd = Some(dir.to_path_buf());
        for key in ["before", "init", "command"] {
            let Some(script) = task.get(key).and_then(|s| s.as_str()) else {
                continue;
            };
            for line in script.lines() {
                let line = line.trim();
                if let Some(target) = line.strip_prefix("cd ") {
                    cwd = change_dir(dir, cwd.as_deref(), target.trim());
                    continue;
                }
                let Some(cwd) = cwd.as_deref() else {
                    continue;
                };
                let run_at = line_of(text, line)
                    .map(|n| format!("{}:{n}", path.display()))
                    .unwrap_or_else(|| path.display().to_string());
                if let Some(file) = generator(dir, cwd, line, run_at) {
                    found.push(file);
                }
            }
        }
    }
    found
}

/// The file `generated` that makes `wanted` (compose's env_file): the one
/// that writes that very path, else one writing a file of that name
/// elsewhere, else one rendering the template named after it
/// (`erb/backend-flask-local.env.erb`) into another file; a problem then
/// says what it writes instead.
pub fn making(generated: &[GeneratedFile], wanted: &Path) -> Option<GeneratedFile> {
    let wanted = lexically_normal(wanted);
    if let Some(exact) = generated
        .iter()
        .find(|g| lexically_normal(&g.output) == wanted)
    {
        return Some(exact.clone());
    }
    let template_name = wanted
        .file_name()
        .map(|n| format!("{}.erb", n.to_string_lossy()));
    let elsewhere = generated
        .iter()
        .find(|g| g.output.file_name() == wanted.file_name())
        .or_else(|| {
            generated.iter().find(|g| {
                let name = g.template.as_ref().and_then(|t| t.file_name());
                name.map(|n| n.to_string_lossy().into_owned()) == template_name
            })
        })?;
    let mut file = elsewhere.clone();
    let misplaced = format!(
        "it writes {}, not {}",
        elsewhere.output.display(),
        wanted.display()
    );
    file.problem = Some(match file.problem {
        Some(problem) => format!("{problem}; and {misplaced}"),
        None => misplaced,
    });
    Some(file)
}

/// One line of a task: a script of the repository run by `ruby`, `bash`,
/// `source` or by its own name, which renders an ERB template.
fn generator(dir: &Path, cwd: &Path, line: &str, run_at: String) -> Option<GeneratedFile> {
    let (runner, named) = script_run_by(line)?;
    let runner = runner.as_deref();
    let script_path = match named.split_once('/') {
        Some((root, rest)) if root.starts_with('$') => dir.join(rest),
        _ => cwd.join(&named),
    };
    let script = crate::workspace::read::text(&script_path).ok()?;
    if !script.contains("ERB.new") {
        return None;
    }
    let template = arguments_of(&script, "File.read").find_map(|argument| match argument {
        Argument::Literal(path) => Some(path.to_string()),
        Argument::Name(_) => None,
    })?;
    let output = match arguments_of(&script, "File.write").next()? {
        Argument::Literal(path) => path.to_string(),
        Argument::Name(variable) => assigned(&script, variable)?,
    };
    let mut problems = Vec::new();
    let ruby = script.starts_with("#!") && script.lines().next()?.contains("ruby");
    if ruby && matches!(runner, Some("source" | "." | "bash" | "sh")) {
        problems.push(format!(
            "`{}` runs the Ruby script {named} with bash, which cannot run it: nothing is generated (run it as `ruby {named}`)",
            runner.unwrap_or_default()
        ));
    }
    let template_path = cwd.join(&template);
    let template_found = if template_path.is_file() {
        Some(template_path)
    } else {
        let elsewhere = find_named(dir, Path::new(&template).file_name()?);
        problems.push(format!(
            "it reads {template} from the folder the task runs it in ({}), where there is none{}",
            shown(dir, cwd),
            elsewhere
                .as_ref()
                .map(|p| format!(" ({} is elsewhere)", shown(dir, p)))
                .unwrap_or_default()
        ));
        elsewhere
    };
    Some(GeneratedFile {
        output: cwd.join(output),
        template: template_found,
        script: named,
        run_at,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

/// `[source|.|ruby|bash|sh] script`: the script a task line runs (by a
/// path in the repository, from the folder or the workspace root), and
/// what runs it. The line is split as the shell splits it.
fn script_run_by(line: &str) -> Option<(Option<String>, String)> {
    let mut words = shlex::split(line)?;
    let script = words.pop()?;
    let runner = match words.as_slice() {
        [] => None,
        [runner] if matches!(runner.as_str(), "source" | "." | "ruby" | "bash" | "sh") => {
            Some(runner.clone())
        }
        _ => return None,
    };
    let in_repository = ["THEIA_WORKSPACE_ROOT", "GITPOD_REPO_ROOT"]
        .iter()
        .flat_map(|root| [format!("${root}/"), format!("${{{root}}}/")])
        .find_map(|root| script.strip_prefix(&root))
        .unwrap_or(&script);
    let a_path = !in_repository.is_empty()
        && in_repository
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
    a_path.then_some((runner, script))
}

/// The first argument of a call in a Ruby script.
enum Argument<'s> {
    /// A string literal: `File.read('erb/x.erb')`, `File.write "x", ...`.
    Literal(&'s str),
    /// A variable: `File.write(filename, ...)`.
    Name(&'s str),
}

/// The first argument of each `call` in `script` that has one, in order.
fn arguments_of<'s>(script: &'s str, call: &'s str) -> impl Iterator<Item = Argument<'s>> {
    script.match_indices(call).filter_map(move |(at, _)| {
        let rest = &script[at + call.len()..];
        if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            return None; // another method: `File.readlines`
        }
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('(').unwrap_or(rest).trim_start();
        if let Some(literal) = quoted(rest) {
            return Some(Argument::Literal(literal));
        }
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (name_end > 0).then(|| Argument::Name(&rest[..name_end]))
    })
}

/// The text of a string literal at the start of `text` (`'...'` or
/// `"..."`, ending at the first quote of either kind), when not empty.
fn quoted(text: &str) -> Option<&str> {
    let inner = text.strip_prefix(['\'', '"'])?;
    let end = inner.find(['\'', '"'])?;
    (end > 0).then(|| &inner[..end])
}

/// `filename = "backend-flask.env"`: the literal a variable is given.
fn assigned(script: &str, variable: &str) -> Option<String> {
    script.lines().find_map(|line| {
        let value = line.trim_start().strip_prefix(variable)?.trim_start();
        Some(quoted(value.strip_prefix('=')?.trim_start())?.to_string())
    })
}

/// Where `cd TARGET` leads from `cwd`; None outside the repository.
fn change_dir(dir: &Path, cwd: Option<&Path>, target: &str) -> Option<PathBuf> {
    let target = target.trim_matches('"');
    for root in [
        "$THEIA_WORKSPACE_ROOT",
        "${THEIA_WORKSPACE_ROOT}",
        "$GITPOD_REPO_ROOT",
        "${GITPOD_REPO_ROOT}",
    ] {
        if let Some(rest) = target.strip_prefix(root) {
            return Some(dir.join(rest.trim_start_matches('/')));
        }
    }
    if target.starts_with('/') || target.starts_with('$') || target.starts_with('~') {
        return None;
    }
    Some(lexically_normal(&cwd?.join(target)))
}

/// A file of that name in the repository, the shallowest first.
fn find_named(dir: &Path, name: &std::ffi::OsStr) -> Option<PathBuf> {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for folder in level {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_file()) && path.file_name() == Some(name) {
                    return Some(path);
                }
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if entry.file_type().is_ok_and(|t| t.is_dir()) && !hidden {
                    next.push(path);
                }
            }
        }
        level = next;
    }
    None
}

fn line_of(text: &str, wanted: &str) -> Option<usize> {
    text.lines().position(|l| l.trim() == wanted).map(|i| i + 1)
}

/// `path` relative to the repository, as the student sees it.
fn shown(dir: &Path, path: &Path) -> String {
    match path.strip_prefix(dir) {
        Ok(rest) if rest.as_os_str().is_empty() => "the repository's root".to_string(),
        Ok(rest) => rest.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `find` makes of the folder's `.gitpod.yml`.
    fn find_in(dir: &Path) -> Vec<GeneratedFile> {
        let text = std::fs::read_to_string(dir.join(".gitpod.yml")).unwrap();
        find(dir, &text, &serde_yaml::from_str(&text).unwrap())
    }

    fn workspace(gitpod: &str, script: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin/backend")).unwrap();
        std::fs::create_dir_all(root.join("erb")).unwrap();
        std::fs::write(root.join(".gitpod.yml"), gitpod).unwrap();
        std::fs::write(root.join("bin/backend/generate-env"), script).unwrap();
        std::fs::write(
            root.join("erb/backend-flask.env.erb"),
            "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=<%= ENV['HONEYCOMB_API_KEY'] %>\nREGION=<%= ENV[\"AWS_DEFAULT_REGION\"] %><% if true %>\nPLAIN=1\n",
        )
        .unwrap();
        dir
    }

    const SCRIPT: &str = "#!/usr/bin/env ruby\nrequire 'erb'\ntemplate = File.read 'erb/backend-flask.env.erb'\ncontent = ERB.new(template).result(binding)\nfilename = \"backend-flask.env\"\nFile.write(filename, content)\n";

    #[test]
    fn a_script_reads_and_writes_what_its_calls_name() {
        let first = |script: &str, call| match arguments_of(script, call).next() {
            Some(Argument::Literal(path)) => format!("'{path}'"),
            Some(Argument::Name(name)) => name.to_string(),
            None => String::new(),
        };
        assert_eq!(first(SCRIPT, "File.read"), "'erb/backend-flask.env.erb'");
        assert_eq!(first(SCRIPT, "File.write"), "filename");
        assert_eq!(
            assigned(SCRIPT, "filename").as_deref(),
            Some("backend-flask.env")
        );
        assert_eq!(
            first("File.write( \"out.env\", x)", "File.write"),
            "'out.env'"
        );
        assert_eq!(first("File.readlines('x')", "File.read"), "");
        assert_eq!(first("File.write('', x)", "File.write"), "");
        assert_eq!(
            assigned("filename2 = 'x'\nfilename == 'y'\n", "filename"),
            None
        );
    }

    #[test]
    fn a_task_line_names_its_script_and_runner_as_the_shell_splits_it() {
        let run = |line: &str| script_run_by(line).map(|(r, s)| (r.unwrap_or_default(), s));
        let pair = |r: &str, s: &str| Some((r.to_string(), s.to_string()));
        assert_eq!(
            run("ruby bin/backend/generate-env"),
            pair("ruby", "bin/backend/generate-env")
        );
        assert_eq!(
            run("  ./bin/generate-env  "),
            pair("", "./bin/generate-env")
        );
        assert_eq!(
            run(r#"source "$THEIA_WORKSPACE_ROOT/bin/frontend/generate-env""#),
            pair("source", "$THEIA_WORKSPACE_ROOT/bin/frontend/generate-env")
        );
        assert_eq!(
            run("bash ${GITPOD_REPO_ROOT}/bin/x"),
            pair("bash", "${GITPOD_REPO_ROOT}/bin/x")
        );
        for not_a_script in [
            "cd backend-flask",
            "pip install -r requirements.txt",
            "",
            "$HOME/x",
            "ruby 'a b'",
        ] {
            assert_eq!(run(not_a_script), None, "{not_a_script}");
        }
    }

    #[test]
    fn an_erb_expression_reads_the_variable_its_env_lookup_names() {
        for (expression, name) in [
            (" ENV['HONEYCOMB_API_KEY'] ", Some("HONEYCOMB_API_KEY")),
            ("ENV[ \"AWS_REGION\" ] -", Some("AWS_REGION")),
            (" ENV.fetch('X_1', 'default') ", Some("X_1")),
            (" ENV.fetch(\"X\") ", Some("X")),
            (" ENV['1X'] ", None),
            (" ENV['X'].upcase ", None),
            (" ENV.fetch('X') + 1 ", None),
            (" other ", None),
            (" ENV['X' ", None),
        ] {
            assert_eq!(env_lookup(expression), name, "{expression}");
        }
    }

    #[test]
    fn a_ruby_task_generates_the_env_file_from_its_template() {
        let dir = workspace(
            "tasks:\n  - name: flask\n    command: |\n      ruby $THEIA_WORKSPACE_ROOT/bin/backend/generate-env\n      cd backend-flask\n",
            SCRIPT,
        );
        let found = find_in(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        let file = &found[0];
        assert_eq!(file.output, dir.path().join("backend-flask.env"));
        assert_eq!(file.problem, None);
        assert!(file.run_at.ends_with(".gitpod.yml:4"), "{}", file.run_at);
        let lookup = |name: &str| (name == "HONEYCOMB_API_KEY").then(|| "hcaik_x".to_string());
        assert_eq!(
            file.render(&lookup).unwrap(),
            "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=hcaik_x\nREGION=\nPLAIN=1\n"
        );
        let made = making(&found, &dir.path().join("./backend-flask.env")).unwrap();
        assert_eq!(made.problem, None);
    }

    #[test]
    fn a_ruby_script_sourced_by_bash_from_the_wrong_folder_makes_nothing() {
        let script = SCRIPT.replace("'erb/backend-flask.env.erb'", "'backend-flask.env.erb'");
        let dir = workspace(
            "tasks:\n  - command: |\n      source \"$THEIA_WORKSPACE_ROOT/bin/backend/generate-env\"\n",
            &script,
        );
        let found = find_in(dir.path());
        let problem = found[0].problem.clone().unwrap();
        assert!(
            problem.contains("with bash, which cannot run it"),
            "{problem}"
        );
        assert!(
            problem.contains("erb/backend-flask.env.erb is elsewhere"),
            "{problem}"
        );
        // Still rendered from the template it meant, for the other checks.
        assert!(found[0].render(&|_| None).unwrap().contains("PLAIN=1"));
        let made = making(&found, &dir.path().join("bin/backend/backend-flask.env")).unwrap();
        assert!(
            made.problem.unwrap().contains("not "),
            "misplaced output is named"
        );
    }

    #[test]
    fn a_template_rendered_into_another_file_is_named_with_what_it_writes() {
        let script = SCRIPT.replace("\"backend-flask.env\"", "\"backend-flask-ready.env\"");
        let dir = workspace(
            "tasks:\n  - command: |\n      ruby $THEIA_WORKSPACE_ROOT/bin/backend/generate-env\n",
            &script,
        );
        let found = find_in(dir.path());
        let made = making(&found, &dir.path().join("backend-flask.env")).unwrap();
        let problem = made.problem.unwrap();
        assert!(
            problem.contains("backend-flask-ready.env, not"),
            "{problem}"
        );
        assert!(making(&found, &dir.path().join("other.env")).is_none());
    }

    #[test]
    fn a_task_that_leaves_the_repository_is_not_followed() {
        let dir = workspace(
            "tasks:\n  - before: |\n      cd /workspace\n      ruby bin/backend/generate-env\n",
            SCRIPT,
        );
        assert!(find_in(dir.path()).is_empty());
    }
}
