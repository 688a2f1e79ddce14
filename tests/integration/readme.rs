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
