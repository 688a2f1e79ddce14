//! `tracelab listen` started as a user starts it, with its output collected.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use tempfile::TempDir;
use tracelab::otlp::{request_for, string_attribute};

use super::app::{App, compose_environment, dockerfile_cmd, get, start_app, wait_until};
use super::{app_venv, free_port, new_workspace};

pub struct Listener {
    pub child: Child,
    pub url: String,
    /// The web view's address, unless started with --no-web.
    pub web: Option<String>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(["listen", "--port", "0", "--web-port", "0"])
            .args(args)
            .env("NO_COLOR", "1")
            // No key: no question to Honeycomb unless a test asks for one.
            .env_remove("HONEYCOMB_API_KEY")
            .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
            .env_remove("HONEYCOMB_API_ENDPOINT")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .trim_end_matches("/v1/traces")
            .to_string();
        let mut web = None;
        if !args.contains(&"--no-web") {
            for _ in 0..2 {
                let mut line = String::new();
                stderr.read_line(&mut line).unwrap();
                if let Some(rest) = line.strip_prefix("Web view on ") {
                    web = rest
                        .split_whitespace()
                        .next()
                        .map(|u| u.trim_end_matches('/').to_string());
                    break;
                }
            }
            assert!(web.is_some(), "no web view address announced");
        }
        // Keep draining stderr so the summary can be read at the end.
        let stderr_text: Arc<Mutex<Vec<String>>> = Arc::default();
        let stderr_sink = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                stderr_sink.lock().unwrap().push(format!("stderr: {line}"));
            }
        });
        let lines = stderr_text;
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Listener {
            child,
            url,
            web,
            lines,
        }
    }

    pub fn output(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| !l.starts_with("stderr: "))
            .cloned()
            .collect()
    }

    /// Its output, once it contains `what` (within `timeout`).
    pub fn wait_for_output(&self, what: &str, timeout: Duration) -> String {
        wait_until(what, timeout, || {
            let out = self.output().join("\n");
            out.contains(what).then_some(out)
        })
    }

    /// Its output, once it has at least `count` lines (within 5 s).
    pub fn wait_for_lines(&self, count: usize) -> Vec<String> {
        wait_until(&format!("{count} lines"), Duration::from_secs(5), || {
            let out = self.output();
            (out.len() >= count).then_some(out)
        })
    }

    /// Waits until its stderr contains `what`.
    pub fn wait_for_stderr(&self, what: &str, timeout: Duration) {
        wait_until(what, timeout, || {
            self.stderr().join("\n").contains(what).then_some(())
        });
    }

    /// The generated app of a `local` workspace exporting here, once it has
    /// answered one request to /api/activities/home. The workspace lives
    /// as long as the returned directory.
    pub fn run_generated_app(&self) -> (App, TempDir) {
        let port = free_port();
        let (root, dir) =
            new_workspace(&["--set", "backends=local", "--set", &format!("port={port}")]);
        let venv = app_venv(&dir.join("backend-flask/requirements.txt"));
        let mut env = compose_environment(&dir);
        env.retain(|(k, _)| k != "OTEL_EXPORTER_OTLP_ENDPOINT");
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), self.url.clone()));
        env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "200".into()));
        let app = start_app(
            &dir,
            &venv,
            &dockerfile_cmd(&dir.join("backend-flask/Dockerfile")),
            &env,
        );
        wait_until("the app", Duration::from_secs(60), || {
            get(&format!("http://127.0.0.1:{port}/api/health-check"))
        });
        let (status, _) = get(&format!("http://127.0.0.1:{port}/api/activities/home")).unwrap();
        assert_eq!(status, 200);
        (app, root)
    }

    /// What it wrote to stderr so far (after the announcement).
    pub fn stderr(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix("stderr: "))
            .map(str::to_string)
            .collect()
    }

    /// Ctrl-C, and waits for it to exit cleanly and its output to be read.
    pub fn stop(&mut self) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        // Ctrl-C ends every command with 130, as a shell reports SIGINT.
        assert_eq!(status.code(), Some(130), "listen exited with {status}");
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Ctrl-C, then the summary line it printed.
    pub fn interrupt(mut self) -> String {
        self.stop();
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .find(|l| l.contains("Stopped."))
            .cloned()
            .unwrap_or_else(|| panic!("no summary in {lines:?}"))
    }
}

/// A test that fails before it stops the listener must not leave it running.
impl Drop for Listener {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

pub fn request(service: &str, spans: usize, trace: u8) -> ExportTraceServiceRequest {
    request_in_trace(service, spans, vec![trace; 16])
}

/// `spans` spans of one trace: a SERVER root and its children.
pub fn request_in_trace(
    service: &str,
    spans: usize,
    trace_id: Vec<u8>,
) -> ExportTraceServiceRequest {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: trace_id.clone(),
            span_id: vec![i as u8 + 1; 8],
            parent_span_id: if i == 0 { vec![] } else { vec![1; 8] },
            name: format!("span-{i}"),
            kind: if i == 0 { 2 } else { 1 },
            start_time_unix_nano: 1_000_000 + i as u64,
            end_time_unix_nano: 3_000_000,
            attributes: vec![string_attribute("http.route", "/api/activities/home")],
            ..Default::default()
        })
        .collect();
    request_for(service, spans)
}

pub fn post(
    url: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut req = agent()
        .post(format!("{url}/v1/traces"))
        .header("Content-Type", content_type);
    if let Some(encoding) = encoding {
        req = req.header("Content-Encoding", encoding);
    }
    let mut response = req.send(body).unwrap();
    let status = response.status().as_u16();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let mut bytes = Vec::new();
    response
        .body_mut()
        .as_reader()
        .read_to_end(&mut bytes)
        .unwrap();
    (status, ct, bytes)
}
