//! One backend session, as `tracelab run` and `doctor --deep` both start
//! it: the environment Compose gives the backend, its spans to a receiver
//! in this process (and passed on where the workspace sends them, when
//! asked), its X-Ray segments to a stand-in for the daemon, the
//! Dockerfile's command in a process group of its own, and Ctrl-C stopping
//! that whole group.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::exit::Stopped;
use crate::receive::hosts::AllowedHosts;
use crate::receive::http::{DEFAULT_READ_TIMEOUT, runtime};
use crate::receive::{Batch, Receiver, Sink, forward, xray};
use crate::runner::{self, App, AppOutput};
use crate::workspace::context::Context;

/// The batch processor's delay in a session: spans arrive a fifth of a
/// second after they end, not the SDK's five.
pub const SCHEDULE_DELAY_MS: u64 = 200;

/// How long the backend's processes get to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// The process group of the running backend, for Ctrl-C to stop.
static RUNNING: AtomicI32 = AtomicI32::new(0);

/// What a session starts, besides the backend.
pub struct Plan {
    /// `Dockerfile` or `Dockerfile.prod`: whose command and ENV it runs.
    pub dockerfile: &'static str,
    /// Spans to a receiver in this process, each batch given to this sink.
    pub receive: Option<Sink>,
    /// With `receive`: each request also passed on, unchanged, to where
    /// the workspace sends its spans.
    pub forward: bool,
    /// A stand-in for the X-Ray daemon receives the segments.
    pub xray: bool,
    /// The port the backend listens on, instead of its Dockerfile's.
    pub port: Option<u16>,
    pub output: AppOutput,
}

/// The backend, running, and what receives from it.
pub struct Session {
    app: App,
    /// The command the backend runs, as run on this machine.
    pub cmd: Vec<String>,
    /// Where the workspace itself sends spans (before the session points
    /// them at its receiver).
    pub destination: Option<String>,
    receiver: Option<Receiver>,
    daemon: Option<xray::Daemon>,
}

/// The backend's venv, made or brought up to date; from here on Ctrl-C
/// belongs to the session (stopped during an install, it is `Stopped`).
pub fn prepare(ctx: &Context) -> Result<PathBuf> {
    stop_on_ctrl_c();
    let venv = runner::prepare_venv(&ctx.backend_dir)?;
    if crate::interrupt::interrupted() {
        return Err(Stopped.into());
    }
    Ok(venv)
}

impl Session {
    /// Starts the backend from `venv` (made by [`prepare`]) as `plan` says.
    pub fn start(ctx: &Context, venv: &Path, plan: Plan) -> Result<Session> {
        stop_on_ctrl_c();
        if crate::interrupt::interrupted() {
            return Err(Stopped.into());
        }
        let mut env = runner::backend_environment(ctx);
        let destination = forward::traces_url(&env);
        let runtime = runtime()?;
        let receiver = match plan.receive {
            Some(sink) => {
                let sink = passing_on(sink, plan.forward.then(|| destination.clone()).flatten());
                let receiver = Receiver::start(
                    Arc::clone(&runtime),
                    "127.0.0.1:0",
                    DEFAULT_READ_TIMEOUT,
                    AllowedHosts::default(),
                    sink,
                )?;
                export_to(&mut env, receiver.addr());
                Some(receiver)
            }
            None => None,
        };
        env.insert(
            "OTEL_BSP_SCHEDULE_DELAY".into(),
            SCHEDULE_DELAY_MS.to_string(),
        );
        let daemon = if plan.xray {
            let daemon = xray::Daemon::start(runtime)?;
            env.insert("AWS_XRAY_DAEMON_ADDRESS".into(), daemon.addr().to_string());
            Some(daemon)
        } else {
            None
        };
        let dockerfile = ctx.backend_dir.join(plan.dockerfile);
        let mut cmd = runner::image_command(ctx, &dockerfile, &mut env)
            .context("there is no command to start the backend with")?;
        if let Some(port) = plan.port {
            env.insert("PORT".into(), port.to_string());
            cmd = runner::on_port(cmd, port);
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let app = App::start(&ctx.backend_dir, venv, &cmd, &env, plan.output)?;
        RUNNING.store(app.id() as i32, Ordering::SeqCst);
        Ok(Session {
            app,
            cmd,
            destination,
            receiver,
            daemon,
        })
    }

    /// The address of the receiver in this process, if spans go to one.
    pub fn receiver_addr(&self) -> Option<SocketAddr> {
        self.receiver.as_ref().map(Receiver::addr)
    }

    /// The X-Ray daemon's stand-in, if the backend sends segments.
    pub fn daemon(&self) -> Option<&xray::Daemon> {
        self.daemon.as_ref()
    }

    /// The exit status, if the backend has stopped by itself.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.app.exited()
    }

    /// Stops the backend's whole process group, then the receivers; the
    /// segments the X-Ray stand-in received.
    pub fn stop(self) -> Vec<xray::Document> {
        RUNNING.store(0, Ordering::SeqCst);
        self.app.stop(STOP_GRACE);
        if let Some(receiver) = self.receiver {
            receiver.stop();
        }
        self.daemon.map(xray::Daemon::stop).unwrap_or_default()
    }
}

/// Spans to the receiver at `addr` in this process, over OTLP/HTTP (what it
/// serves), whatever endpoint and protocol the workspace names.
fn export_to(env: &mut BTreeMap<String, String>, addr: SocketAddr) {
    env.insert(
        "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
        format!("http://{addr}"),
    );
    env.remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    env.insert("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "http/protobuf".into());
    env.remove("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
}

/// `sink`, and each request passed on unchanged to `url` when there is one.
fn passing_on(sink: Sink, url: Option<String>) -> Sink {
    let Some(url) = url else {
        return sink;
    };
    let forwarder = forward::start(url);
    Arc::new(move |batch: Batch| {
        let _ = forwarder.send(Arc::clone(&batch.raw));
        sink(batch);
    })
}

/// Ctrl-C while the backend runs stops its whole group at once, even when
/// this process is waiting on one of its answers (registered once per
/// process with the one Ctrl-C owner).
fn stop_on_ctrl_c() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        crate::interrupt::on_interrupt(|| {
            let group = RUNNING.swap(0, Ordering::SeqCst);
            if group > 0 {
                runner::kill_group(group, STOP_GRACE, &mut || false);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_go_to_the_receiver_over_http_whatever_the_workspace_names() {
        let mut env: BTreeMap<String, String> = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://api.honeycomb.io/v1/traces",
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        export_to(&mut env, "127.0.0.1:4318".parse().unwrap());
        assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4318");
        assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
        assert!(!env.contains_key("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        assert!(!env.contains_key("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"));
    }
}
