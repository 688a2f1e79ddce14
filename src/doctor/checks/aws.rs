//! `aws-*` and `xray-*`: regions where boto3 and the X-Ray daemon each look
//! for them, session tokens, and the daemon address the SDK sends to.

use crate::backend::Backend;
use crate::doctor::finding::{Finding, Layer};
use crate::rules::Shape;
use crate::rules::aws::region_shape;
use crate::workspace::context::Context;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let xray = ctx.uses(Backend::Xray);
    if !(xray || ctx.uses(Backend::Cloudwatch)) {
        return Vec::new();
    }
    let Some((layer, env)) = ctx.app_env() else {
        return Vec::new();
    };
    let get = |name: &str| env.get(name).cloned().flatten().filter(|v| !v.is_empty());
    let mut out = Vec::new();
    if get("AWS_DEFAULT_REGION").is_none() && get("AWS_REGION").is_some() {
        out.push(
            Finding::fail("aws-region", layer, "the backend has AWS_REGION but not AWS_DEFAULT_REGION: boto3 (CloudWatch, X-Ray rules) reads only AWS_DEFAULT_REGION")
                .var("AWS_DEFAULT_REGION")
                .fix("AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"   # in the backend's environment"),
        );
    }
    if get("AWS_ACCESS_KEY_ID").is_some_and(|id| id.starts_with("ASIA"))
        && get("AWS_SESSION_TOKEN").is_none()
    {
        out.push(
            Finding::fail("aws-session-token", layer, "AWS_ACCESS_KEY_ID is a temporary key (ASIA...), which needs AWS_SESSION_TOKEN too")
                .var("AWS_SESSION_TOKEN")
                .fix("AWS_SESSION_TOKEN: \"${AWS_SESSION_TOKEN}\"   # in the backend's environment, and export it"),
        );
    }
    if xray {
        check_daemon_address(ctx, layer, get("AWS_XRAY_DAEMON_ADDRESS"), &mut out);
        check_daemon_region(ctx, &mut out);
    }
    if out.is_empty() {
        out.push(Finding::ok(
            "aws-region",
            layer,
            "AWS settings are where boto3 and the X-Ray daemon read them",
        ));
    }
    out
}

fn daemon_service(ctx: &Context) -> Option<String> {
    let compose = ctx.compose.as_ref()?;
    compose
        .file
        .services
        .iter()
        .find(|s| {
            s.image.as_deref().unwrap_or("").contains("xray-daemon") || s.name.contains("xray")
        })
        .map(|s| s.name.clone())
}

fn check_daemon_address(
    ctx: &Context,
    layer: Layer,
    address: Option<String>,
    out: &mut Vec<Finding>,
) {
    const NAME: &str = "AWS_XRAY_DAEMON_ADDRESS";
    let daemon = daemon_service(ctx);
    let suggested = format!("{}:2000", daemon.as_deref().unwrap_or("xray-daemon"));
    let Some(address) = address else {
        if daemon.is_some() {
            out.push(
                Finding::fail("xray-daemon-address", layer, format!("{NAME} is not set: the SDK sends to 127.0.0.1:2000, which inside the container is not the daemon"))
                    .var(NAME)
                    .fix(format!("{NAME}: \"{suggested}\"")),
            );
        }
        return;
    };
    if address.contains("://") {
        out.push(
            Finding::fail("xray-daemon-address", layer, format!("{NAME}={address:?} is a URL: the SDK wants host:port and raises InvalidDaemonAddressException"))
                .var(NAME)
                .fix(format!("{NAME}: \"{suggested}\"")),
        );
        return;
    }
    let hosts: Vec<&str> = address
        .split_whitespace()
        .map(|part| part.trim_start_matches("tcp:").trim_start_matches("udp:"))
        .collect();
    for host_port in hosts {
        let Some((host, port)) = host_port.rsplit_once(':') else {
            out.push(
                Finding::fail(
                    "xray-daemon-address",
                    layer,
                    format!("{NAME}={address:?} has no port: write host:port"),
                )
                .var(NAME)
                .fix(format!("{NAME}: \"{suggested}\"")),
            );
            return;
        };
        if port.parse::<u16>().is_err() {
            out.push(
                Finding::fail(
                    "xray-daemon-address",
                    layer,
                    format!("{NAME}: {port:?} is not a port"),
                )
                .var(NAME)
                .fix(format!("{NAME}: \"{suggested}\"")),
            );
            return;
        }
        let is_service = ctx
            .compose
            .as_ref()
            .is_some_and(|c| c.file.service(host).is_some());
        let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host == "localhost";
        if ctx.compose.is_some() && !is_service && !is_ip {
            out.push(
                Finding::fail(
                    "xray-daemon-address",
                    layer,
                    format!(
                        "{NAME} names the host {host:?}, but no compose service is called that"
                    ),
                )
                .var(NAME)
                .fix(format!("{NAME}: \"{suggested}\"")),
            );
        }
    }
}

fn check_daemon_region(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(daemon) = daemon_service(ctx) else {
        return;
    };
    let Some(env) = ctx.service_env(&daemon) else {
        return;
    };
    let get = |name: &str| env.get(name).cloned().flatten().filter(|v| !v.is_empty());
    let declared = ctx
        .compose
        .as_ref()
        .and_then(|c| c.file.service(&daemon))
        .is_some_and(|s| s.environment.iter().any(|(k, _)| k == "AWS_REGION"));
    match get("AWS_REGION") {
        // Declared but empty: the variable it interpolates is unset, and the
        // env-missing check already names it.
        None if declared => {}
        None => {
            let why = if get("AWS_DEFAULT_REGION").is_some() {
                "has AWS_DEFAULT_REGION, but the daemon reads only AWS_REGION"
            } else {
                "has no AWS_REGION: the daemon cannot send segments"
            };
            out.push(
                Finding::fail(
                    "xray-daemon-region",
                    Layer::Compose,
                    format!("the {daemon} service {why}"),
                )
                .var("AWS_REGION")
                .fix(format!(
                    "add to services.{daemon}.environment:  AWS_REGION: \"${{AWS_DEFAULT_REGION}}\""
                )),
            );
        }
        Some(region) => {
            if let Shape::Wrong(reason) = region_shape(&region) {
                out.push(
                    Finding::fail(
                        "xray-daemon-region",
                        Layer::Compose,
                        format!("the {daemon} service's AWS_REGION: {reason}"),
                    )
                    .var("AWS_REGION"),
                );
            }
        }
    }
}
