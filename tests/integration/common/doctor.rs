//! Doctor fixtures: a generated workspace, a controlled environment, and
//! fake `gp` and `docker` commands on PATH.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use tempfile::TempDir;

pub const KEY: &str = "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w";
pub const OTHER_KEY: &str = "hcaik_01jzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
pub const AWS_ID: &str = "AKIAZ7Q4R5T6Y7U8I9O0";
pub const AWS_SECRET: &str = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d";
pub const ROLLBAR: &str = "0123456789abcdef0123456789abcdef";

/// A student's shell with every secret set and well formed, region ca-central-1.
pub const HEALTHY_SHELL: [(&str, &str); 5] = [
    ("HONEYCOMB_API_KEY", KEY),
    ("AWS_ACCESS_KEY_ID", AWS_ID),
    ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
    ("AWS_DEFAULT_REGION", "ca-central-1"),
    ("ROLLBAR_ACCESS_TOKEN", ROLLBAR),
];

pub struct Fixture {
    _root: TempDir,
    pub dir: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
    extra_args: Vec<String>,
}

impl Fixture {
    /// A workspace from `tracelab new` for these backends, and a shell with
    /// every variable it needs set correctly.
    pub fn new(backends: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ws");
        super::tracelab()
            .args(["new", "--defaults", "--no-check", "--set"])
            .arg(format!("backends={backends}"))
            .arg(&dir)
            .assert()
            .success();
        let bin = root.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let mut fixture = Fixture {
            _root: root,
            dir,
            bin,
            env: Vec::new(),
            extra_args: Vec::new(),
        };
        for (name, value) in HEALTHY_SHELL {
            fixture = fixture.set(name, value);
        }
        fixture
    }

    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn unset(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn write(self, rel: &str, text: &str) -> Self {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    /// Replaces text in a workspace file; panics if it is not there.
    pub fn edit(self, rel: &str, from: &str, to: &str) -> Self {
        let text = fs::read_to_string(self.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}:\n{text}");
        fs::write(self.path(rel), text.replacen(from, to, 1)).unwrap();
        self
    }

    fn script(&self, name: &str, body: &str) {
        let path = self.bin.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A `gp` whose `gp env` lists these persisted variables.
    pub fn gitpod(self, vars: &[(&str, &str)]) -> Self {
        let lines: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        fs::write(self.bin.join("gp-env.txt"), lines).unwrap();
        self.script(
            "gp",
            &format!(
                "[ \"$1\" = env ] && cat '{}'",
                self.bin.join("gp-env.txt").display()
            ),
        );
        self
    }

    /// A `docker` with a running backend container with this environment and these logs.
    pub fn container(self, env: &[(&str, &str)], logs: &str) -> Self {
        let env_json = serde_json::to_string(
            &env.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        fs::write(self.bin.join("container-env.json"), env_json).unwrap();
        fs::write(self.bin.join("container-logs.txt"), logs).unwrap();
        let dir = self.bin.display().to_string();
        self.script(
            "docker",
            &format!(
                r#"case "$*" in
  "compose version") echo "Docker Compose version v2.40.3" ;;
  compose*" ps -q "*) echo 0123abcd ;;
  compose*" logs "*) cat '{dir}/container-logs.txt' ;;
  "inspect --format {{{{json .Config.Env}}}} 0123abcd") cat '{dir}/container-env.json' ;;
  *) echo "fake docker: unexpected $*" >&2; exit 1 ;;
esac"#
            ),
        );
        self.arg("--builtin-resolver")
    }

    /// Puts the real Compose v2 on PATH: the doctor then resolves with it.
    pub fn real_compose(self) -> Self {
        std::os::unix::fs::symlink(
            super::tool("docker-compose"),
            self.bin.join("docker-compose"),
        )
        .unwrap();
        self
    }

    /// Runs `tracelab doctor --json` and returns its exit code and report.
    pub fn doctor(&self) -> (i32, serde_json::Value) {
        let output = self.run(&["--json"]);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}):\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap(), report)
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"));
        cmd.arg("doctor")
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra_args)
            .args(args)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("NO_COLOR", "1")
            .envs(self.env.iter().cloned());
        cmd.output().unwrap()
    }
}

/// Two slips in the backend's code that are edits: an import commented
/// out, and a module path the package does not have.
pub fn slipped_imports(backends: &str) -> Fixture {
    Fixture::new(backends)
        .edit(
            "backend-flask/app.py",
            "\nimport logging\n",
            "\n# import logging\n",
        )
        .edit(
            "backend-flask/app.py",
            "aws_xray_sdk.ext.flask.middleware",
            "aws_xray_sdk.flask.middleware",
        )
}

/// The findings with this id, for this variable (None: any).
pub fn findings<'a>(
    report: &'a serde_json::Value,
    id: &str,
    variable: Option<&str>,
) -> Vec<&'a serde_json::Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id && variable.is_none_or(|v| c["variable"] == v))
        .collect()
}

/// Asserts one finding `id` about `variable` with `status`, whose message
/// (and fix, if given) contain the texts; returns it.
pub fn expect<'a>(
    report: &'a serde_json::Value,
    id: &str,
    variable: Option<&str>,
    status: &str,
    message_has: &str,
    fix_has: Option<&str>,
) -> &'a serde_json::Value {
    let found = findings(report, id, variable);
    let finding = found
        .iter()
        .find(|f| f["status"] == status && f["message"].as_str().unwrap().contains(message_has))
        .unwrap_or_else(|| {
            panic!("no {status} {id} for {variable:?} with {message_has:?} in:\n{report:#}")
        });
    if let Some(fix) = fix_has {
        assert!(
            finding["fix"].as_str().unwrap_or("").contains(fix),
            "fix of {id} lacks {fix:?}: {finding:#}"
        );
    }
    finding
}

/// The doctor finds no problem in the fixture and exits 0.
pub fn healthy(fixture: &Fixture) {
    let (code, report) = fixture.doctor();
    assert_eq!(failing_ids(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(code, 0, "{report:#}");
}

pub fn failing_ids(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

pub fn assert_no_secret(output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    for secret in [KEY, OTHER_KEY, AWS_SECRET, ROLLBAR] {
        assert!(!text.contains(secret), "a secret was printed:\n{text}");
    }
    // Nor the start of one: a fingerprint shows a key's kind, not its value.
    for secret in [AWS_SECRET, ROLLBAR] {
        assert!(
            !text.contains(&secret[..4]),
            "the start of a secret was printed:\n{text}"
        );
    }
    assert!(
        !text.contains(&KEY[..9]),
        "the start of a key was printed:\n{text}"
    );
}
