//! The README's recipes are the command line as it is: every `tracelab`
//! command in a shell block parses with the real argument parser (the
//! binary's own clap definition), and every subcommand has a recipe. A flag
//! renamed or removed fails here, not in a student's terminal.

use clap::{CommandFactory, Parser};
use tracelab::cli::Cli;

/// Each `tracelab ...` command in the README's ```sh blocks, as words,
/// with the line it is on: pipes, `&&`, `;` and redirections split off,
/// comments and `VAR=value` prefixes dropped.
fn recipes() -> Vec<(usize, Vec<String>)> {
    let readme = crate::common::read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let mut found = Vec::new();
    let mut in_shell = false;
    for (index, line) in readme.lines().enumerate() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_shell =
                !in_shell && matches!(fence.trim_start_matches('`'), "sh" | "bash" | "shell");
            continue;
        }
        if !in_shell {
            continue;
        }
        for part in line.split("&&").flat_map(|p| p.split(['|', ';'])) {
            // A redirection's target is no argument.
            let command = part.split('>').next().unwrap_or("");
            let Some(words) = shlex::split(command) else {
                panic!(
                    "README.md:{}: {line:?} does not split as a shell line",
                    index + 1
                );
            };
            let words: Vec<String> = words
                .into_iter()
                .skip_while(|w| w.contains('=') && !w.starts_with('-'))
                .collect();
            if words.first().is_some_and(|w| w == "tracelab") {
                found.push((index + 1, words));
            }
        }
    }
    found
}

#[test]
fn every_readme_recipe_parses_and_every_command_has_one() {
    let recipes = recipes();
    assert!(recipes.len() > 30, "{recipes:?}");
    let mut failures = Vec::new();
    for (line, words) in &recipes {
        if let Err(error) = Cli::try_parse_from(words) {
            failures.push(format!(
                "README.md:{line}: {}\n{}",
                words.join(" "),
                error.render()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let shown: Vec<&str> = recipes
        .iter()
        .filter_map(|(_, words)| words.get(1).map(String::as_str))
        .collect();
    let missing: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help" && !shown.contains(&name.as_str()))
        .collect();
    assert!(missing.is_empty(), "no README recipe for: {missing:?}");
}

/// The parser refuses what it should: the test above would pass on a
/// parser that accepts anything.
#[test]
fn a_recipe_with_a_flag_that_does_not_exist_is_refused() {
    assert!(Cli::try_parse_from(["tracelab", "doctor", "--no-such-flag"]).is_err());
    assert!(Cli::try_parse_from(["tracelab", "doctor", "--json"]).is_ok());
}

/// The recipes a test can run as they are written, offline and at once:
/// each in a fresh folder (the workspace ones in a workspace `new` made),
/// ending as the command line promises (0, or 1 for problems found),
/// never as a usage error or a panic. `run`, `listen`, `class`, `--deep`,
/// `--online` and `env set` wait on processes, the network or a person:
/// their own suites run them.
#[test]
fn the_offline_readme_recipes_run_as_written() {
    const WAITS: &[&str] = &["run", "listen", "class", "man", "show"];
    const REACHES_OUT: &[&str] = &["--online", "--deep", "set"];
    let mut ran = 0;
    let mut failures = Vec::new();
    for (line, words) in recipes() {
        let command = words[1].as_str();
        if WAITS.contains(&command)
            || words
                .iter()
                .any(|w| REACHES_OUT.contains(&w.as_str()) || w == "[DIR]")
        {
            continue;
        }
        // The README's placeholder for a check id, as a student fills it in.
        let args: Vec<String> = words[1..]
            .iter()
            .map(|w| {
                if w == "ID" {
                    "env-missing".to_string()
                } else {
                    w.clone()
                }
            })
            .collect();
        let root = tempfile::tempdir().unwrap();
        let workspace = root.path().join("week2");
        let creates = command == "new" && !args.iter().any(|a| a == "--force");
        if !creates {
            crate::common::tracelab()
                .args(["new", "--defaults", "--no-check"])
                .arg(&workspace)
                .assert()
                .success();
        }
        let cwd = if command == "new" {
            root.path()
        } else {
            workspace.as_path()
        };
        let run = |args: &[String]| {
            crate::common::tracelab()
                .args(args)
                .current_dir(cwd)
                .env("HOME", root.path())
                .env("NO_COLOR", "1")
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap()
        };
        let mut output = run(&args);
        // A recipe that asks first refuses without a terminal, saying how
        // to answer; answered so (the README's --yes), it runs.
        if String::from_utf8_lossy(&output.stderr).contains("no terminal to ask on") {
            assert_eq!(output.status.code(), Some(2), "README.md:{line}");
            output = run(&[args.clone(), vec!["--yes".to_string()]].concat());
        }
        ran += 1;
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !matches!(code, Some(0 | 1)) || stderr.contains("panicked") {
            failures.push(format!(
                "README.md:{line}: tracelab {} exited {code:?}\n{stderr}",
                args.join(" ")
            ));
        }
    }
    assert!(ran >= 20, "only {ran} recipes ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
