//! What the run saw, as the doctor's findings: whether the backend
//! started, each route's answer, the spans and segments that arrived, and
//! what the SDKs said; and which of them confirm a static finding.

use std::collections::BTreeMap;

use super::log::{self, Raised, SdkWarning};
use super::routes::{self, Route};
use super::{ROUTE_TIMEOUT, START_TIMEOUT};
use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Finding, Layer};
use crate::otlp::ReceivedSpan;
use crate::receive::xray;
use crate::workspace::context::Context;

/// A problem the run saw that the static checks already named is the same
/// root cause: kept as a note that the run confirmed it, not counted twice.
/// The same place is a `file:line` both name; the same fact is what
/// `same_fact` links.
pub fn as_confirmations(probed: Vec<Finding>, static_findings: &mut [Finding]) -> Vec<Finding> {
    use crate::doctor::finding::Status;
    // A note counts too: a 500 on a route the lab never uses is a note, as
    // the static finding of it is, and is the same cause said twice.
    let is_problem = |f: &Finding| matches!(f.status, Status::Fail | Status::Warn | Status::Info);
    probed
        .into_iter()
        .filter_map(|finding| {
            let here = places(&finding.message);
            let confirmed: Vec<&mut Finding> = static_findings
                .iter_mut()
                .filter(|f| is_problem(f))
                .filter(|f| {
                    places(&f.message).iter().any(|p| here.contains(p)) || same_fact(&finding, f)
                })
                .collect();
            let seen_before = is_problem(&finding) && !confirmed.is_empty();
            if !seen_before {
                return Some(finding);
            }
            // One finding, marked: the static one, proved by the run, and at
            // least as grave as what the run saw (a request the run saw fail
            // that the static check named a note is a warning on the lab's
            // route).
            for static_finding in confirmed {
                static_finding.raise_to(finding.status);
                static_finding.confirmed = true;
            }
            None
        })
        .collect()
}

/// Every Python `file:line` in `text`, without a leading `./`.
fn places(text: &str) -> Vec<String> {
    static PLACE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z0-9_./-]+\.py:[0-9]+").expect("a valid pattern")
    });
    PLACE
        .find_iter(text)
        .map(|m| m.as_str().trim_start_matches("./").to_string())
        .collect()
}

/// A run's finding and a static one that say the same thing without a
/// place in common: what the run saw is what the static check predicts.
fn same_fact(seen: &Finding, claimed: &Finding) -> bool {
    use CheckId::*;
    let says = |text: &str| seen.message.contains(text);
    match seen.id {
        // Nothing at all: the pipeline is never set up.
        DeepSpans if says("no span arrived") => {
            matches!(
                claimed.id,
                CodeProviderNotSet | CodeUnattachedProcessor | OtlpSdkDisabled
            ) || (claimed.id == PythonCallableNotCalled
                && claimed.message.contains("SpanExporter instance"))
        }
        // Spans, but none from Flask: it is never instrumented.
        DeepSpans if says("no server span") => {
            matches!(claimed.id, CodeInstrumentor | CodeFlaskInstrumentationOrder)
                || (claimed.id == PythonCallableNotCalled && claimed.message.contains("instrument"))
        }
        DeepSpans if says("unknown_service") => claimed.id == OtlpServiceName,
        // A segment begun and ended in the request: the middleware, or the
        // code after it, finds no segment (a 500, the SDK's complaint).
        DeepRoute | DeepSdkWarning
            if claimed.id == CodeXraySegment
                && claimed.status == crate::doctor::finding::Status::Fail =>
        {
            // The 500 raised (its last place) in the file that begins the
            // segment.
            let file = |place: &String| place.split_once(".py:").map(|(file, _)| file.to_string());
            let raised_in = places(&seen.message).last().and_then(file);
            says("no segment")
                || (says("AttributeError")
                    && raised_in.is_some_and(|f| {
                        places(&claimed.message)
                            .iter()
                            .any(|p| file(p).as_ref() == Some(&f))
                    }))
        }
        // No segment at all: the SDK is switched off.
        DeepXray if says("no X-Ray segment arrived") => claimed.id == XraySdkDisabled,
        // The lab's attribute missing: the static finding names that key,
        // quoted or in a list.
        DeepLabSpan => crate::rules::lab::ATTRIBUTES.iter().any(|key| {
            says(key)
                && claimed
                    .message
                    .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
                    .any(|word| word == *key)
        }),
        // The SDK refused an attribute's value: the static finding named it.
        DeepSdkWarning if says("could not take an attribute value") => {
            claimed.id == CodeAttributeValue
        }
        _ => false,
    }
}

pub(super) fn started(service: &str, port: u16) -> Finding {
    Finding::ok(
        CheckId::DeepStart,
        Layer::Code,
        format!("{service} started and answered on 127.0.0.1:{port}, exporting to tracelab"),
    )
}

pub(super) fn did_not_start(
    ctx: &Context,
    lines: &[String],
    status: Option<std::process::ExitStatus>,
) -> Finding {
    let how = match status {
        Some(status) => format!("exited ({status})"),
        None => format!("did not answer within {} s", START_TIMEOUT.as_secs()),
    };
    let message = match log::last_exception(lines, &ctx.backend_dir) {
        Some(Raised {
            exception,
            at: Some(at),
        }) => format!(
            "the backend {how}: {exception} at {}{}",
            shown(ctx, &at),
            unreachable_at_start(&exception)
        ),
        Some(Raised {
            exception,
            at: None,
        }) => format!("the backend {how}: {exception}"),
        None => format!(
            "the backend {how}; its last lines:\n{}",
            last_lines(lines, 8)
        ),
    };
    let fix = match log::last_exception(lines, &ctx.backend_dir).and_then(|r| r.at) {
        Some(at) => format!("fix {}", shown(ctx, &at)),
        None => "tracelab run   # starts it the same way, with its output".into(),
    };
    Finding::fail(CheckId::DeepStart, Layer::Code, message).fix(fix)
}

fn last_lines(lines: &[String], count: usize) -> String {
    let start = lines.len().saturating_sub(count);
    lines[start..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `backend-flask/services/x.py:12`: a place in the backend, from the
/// workspace.
fn shown(ctx: &Context, at: &str) -> String {
    let dir = ctx
        .backend_dir
        .strip_prefix(&ctx.dir)
        .unwrap_or(&ctx.backend_dir);
    dir.join(at).display().to_string()
}

pub(super) fn route_finding(
    ctx: &Context,
    route: &Route,
    status: u16,
    window: &[String],
) -> Option<Finding> {
    // As a static finding of a failing request is (FACTS: severity is a
    // promise): on the lab's route the lab's span is lost, a warning; on
    // any other, the request's span still arrives, marked as an error.
    let on_lab_route = route.path == crate::rules::lab::ROUTE;
    match status {
        // A 4xx is the app's own answer (search without a query is 422).
        200..=499 => None,
        // No answer: the request's span never ends, and never arrives.
        0 => Some(
            Finding::warn(
                CheckId::DeepRoute,
                Layer::Code,
                format!(
                    "GET {} gave no answer within {} s",
                    route.path,
                    ROUTE_TIMEOUT.as_secs()
                ),
            )
            .fix(format!("fix {}", shown(ctx, &route.at))),
        ),
        _ => {
            let raised = log::last_exception(window, &ctx.backend_dir);
            let (why, at) = match raised {
                Some(Raised { exception, at }) => (format!(": {exception}"), at),
                None => (String::new(), None),
            };
            let at = at.unwrap_or_else(|| route.at.clone());
            let found = if on_lab_route {
                Finding::warn
            } else {
                Finding::info
            };
            Some(
                found(
                    CheckId::DeepRoute,
                    Layer::Code,
                    format!(
                        "GET {} (routed at {}) answered {status}{why} at {}",
                        route.path,
                        shown(ctx, &route.at),
                        shown(ctx, &at)
                    ),
                )
                .fix(format!("fix {}", shown(ctx, &at))),
            )
        }
    }
}

/// Per route asked: the spans that came for it (matched by the server
/// span's route or path), the service they came under, and the lab's
/// manual span with its two attributes.
pub(super) fn span_findings(
    ctx: &Context,
    asked: &[(Route, u16, usize)],
    spans: &[ReceivedSpan],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !(ctx.uses(Backend::Honeycomb) || ctx.uses(Backend::Local)) {
        return out;
    }
    let answered: Vec<&Route> = asked
        .iter()
        .filter(|(_, status, _)| (200..500).contains(status) && *status != 404 && *status != 405)
        .map(|(route, _, _)| route)
        .collect();
    if answered.is_empty() {
        return out;
    }
    if let Some(at) = endpoint_in_code(ctx)
        && spans.is_empty()
    {
        out.push(Finding::skip(
            CheckId::DeepSpans,
            Layer::Code,
            format!("the code sets the exporter's endpoint itself at {at}: its spans go there, past tracelab's receiver, and the run cannot see them (tracelab doctor --online asks that endpoint)"),
        ));
        return out;
    }
    if spans.is_empty() {
        out.push(
            Finding::fail(
                CheckId::DeepSpans,
                Layer::Code,
                format!(
                    "{} answered but no span arrived: the app never sets a tracer provider with an exporter, or never instruments Flask",
                    count_routes(answered.len())
                ),
            )
            .fix("tracelab doctor   # the code checks name the missing line; tracelab new --defaults NEW_DIR shows a working app.py"),
        );
        return out;
    }
    let services: std::collections::BTreeSet<&str> = spans.iter().map(|s| &*s.service).collect();
    let mut traces: BTreeMap<String, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id()).or_default().push(span);
    }
    for route in answered {
        let trace = traces.values().find(|trace| {
            trace.iter().any(|s| {
                s.span.kind == 2
                    && s.attributes().iter().any(|(k, v)| {
                        matches!(k.as_str(), "http.route" | "http.target" | "url.path")
                            && v.as_str()
                                .is_some_and(|v| v.split('?').next() == Some(&route.path))
                    })
            })
        });
        let Some(trace) = trace else {
            out.push(
                Finding::warn(
                    CheckId::DeepSpans,
                    Layer::Code,
                    format!("GET {} answered, but no server span for it arrived: Flask is not instrumented for this route", route.path),
                )
                .fix(format!("FlaskInstrumentor().instrument_app(app) after `app = Flask(...)` in {}", shown(ctx, "app.py"))),
            );
            continue;
        };
        let names: Vec<String> = trace.iter().map(|s| format!("{:?}", s.span.name)).collect();
        out.push(Finding::ok(
            CheckId::DeepSpans,
            Layer::Code,
            format!(
                "GET {}: {} span{} from {} ({})",
                route.path,
                trace.len(),
                if trace.len() == 1 { "" } else { "s" },
                trace[0].service,
                names.join(", ")
            ),
        ));
        if route.path == routes::LAB_ROUTE {
            out.extend(lab_span(ctx, trace));
        }
    }
    if let Some(unknown) = services.iter().find(|s| s.starts_with("unknown_service")) {
        // They arrive, where the student will not look: a warning.
        out.push(
            Finding::warn(
                CheckId::DeepSpans,
                Layer::Code,
                format!("spans arrive as {unknown}: the app never names itself, so they land in a dataset of that name"),
            )
            .fix("OTEL_SERVICE_NAME: backend-flask   # under the backend's environment: in docker-compose.yml"),
        );
    }
    out
}

/// Where the code passes `endpoint=` to an OTLP exporter, if it does.
fn endpoint_in_code(ctx: &Context) -> Option<String> {
    ctx.live_calls()
        .find(|(_, c)| c.method().ends_with("SpanExporter") && c.keyword("endpoint").is_some())
        .map(|(f, c)| format!("{}:{}", shown_file(ctx, &f.path), c.line))
}

fn count_routes(n: usize) -> String {
    if n == 1 {
        "1 route".into()
    } else {
        format!("{n} routes")
    }
}

/// The lab's manual span under the home route, with `app.now` and
/// `app.result_length`; each one missing is named.
fn lab_span(ctx: &Context, trace: &[&ReceivedSpan]) -> Vec<Finding> {
    let wanted = crate::rules::lab::ATTRIBUTES;
    // Before the lab's step is done there is no manual span to miss.
    let code_makes_one = ctx
        .live_calls()
        .any(|(_, c)| matches!(c.method(), "start_as_current_span" | "start_span"));
    let manual = trace
        .iter()
        .find(|s| s.attributes().keys().any(|k| k.starts_with("app.")))
        .or_else(|| trace.iter().find(|s| s.span.kind == 1));
    let Some(manual) = manual else {
        if !code_makes_one {
            return Vec::new();
        }
        return vec![
            Finding::warn(
                CheckId::DeepLabSpan,
                Layer::Code,
                format!("GET {}: the lab's manual span did not arrive (only the server span did)", routes::LAB_ROUTE),
            )
            .fix(format!("with tracer.start_as_current_span(\"home-activities-mock-data\") as span:   # in {}", shown(ctx, "services/home_activities.py"))),
        ];
    };
    let attributes = manual.attributes();
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|k| !attributes.contains_key(*k))
        .collect();
    if missing.is_empty() {
        return vec![Finding::ok(
            CheckId::DeepLabSpan,
            Layer::Code,
            format!(
                "the lab's span {:?} arrived with app.now and app.result_length",
                manual.span.name
            ),
        )];
    }
    // Set in code that never runs (after a return): the line says why.
    let never_runs = missing.iter().find_map(|key| {
        ctx.code.iter().find_map(|f| {
            let dead = f.facts.dead_calls.iter().find(|d| {
                d.call.method() == "set_attribute"
                    && d.call.args.first()
                        == Some(&crate::workspace::python::Value::Str(key.to_string()))
            })?;
            Some(format!(
                " ({key} is set at {}:{}, after the {} at line {}: it never runs)",
                shown_file(ctx, &f.path),
                dead.call.line,
                dead.because,
                dead.because_line
            ))
        })
    });
    vec![
        Finding::warn(
            CheckId::DeepLabSpan,
            Layer::Code,
            format!(
                "the lab's span {:?} arrived without {}{}",
                manual.span.name,
                missing.join(" and "),
                never_runs.unwrap_or_default()
            ),
        )
        .fix(format!(
            "span.set_attribute(\"{}\", ...)   # inside the span's with block, before any return",
            missing[0]
        )),
    ]
}

/// Whether a route answered as a route that ran (not 404, 405, or no answer).
fn ran(status: u16) -> bool {
    status != 0 && status != 404 && status != 405
}

/// What to add when an exception says the app called AWS while starting
/// and could not reach it.
fn unreachable_at_start(exception: &str) -> &'static str {
    if exception.contains("EndpointConnectionError")
        || exception.contains("Could not connect to the endpoint")
    {
        ": the app calls AWS while it is imported (a CloudWatch handler made at import), so without AWS it does not start at all; make it inside try/except, as tracelab new's app.py does"
    } else {
        ""
    }
}

pub(super) fn xray_findings(
    ctx: &Context,
    segments: &[xray::Document],
    asked: &[(Route, u16, usize)],
) -> Vec<Finding> {
    if !ctx.uses(Backend::Xray) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let segment_names: std::collections::BTreeSet<&str> = segments
        .iter()
        .filter(|d| !d.is_subsegment)
        .map(|d| d.name.as_str())
        .collect();
    if segments.is_empty() {
        // Where the middleware is named, if it is: the line to look at.
        let named = ctx.code.iter().find_map(|f| {
            let line = f
                .facts
                .calls
                .iter()
                .find(|c| c.name.ends_with("XRayMiddleware"))
                .map(|c| c.line)
                .or_else(|| {
                    f.facts
                        .assignments
                        .iter()
                        .find(|a| a.target == "XRayMiddleware")
                        .map(|a| a.line)
                })?;
            Some(format!(
                " (XRayMiddleware at {}:{line})",
                shown_file(ctx, &f.path)
            ))
        });
        out.push(
            Finding::fail(
                CheckId::DeepXray,
                Layer::Code,
                format!("no X-Ray segment arrived: the X-Ray middleware never ran for the routes asked{}", named.unwrap_or_default()),
            )
            .fix(format!(
                "XRayMiddleware(app, xray_recorder) after `app = Flask(...)` in {}",
                shown(ctx, "app.py")
            )),
        );
        return out;
    }
    let mut subsegments: Vec<&str> = segments
        .iter()
        .flat_map(|d| d.subsegments.iter().map(String::as_str))
        .collect();
    subsegments.sort_unstable();
    subsegments.dedup();
    let faults = segments.iter().filter(|d| d.fault || d.error).count();
    out.push(Finding::ok(
        CheckId::DeepXray,
        Layer::Code,
        format!(
            "{} X-Ray segment{} arrived ({}{}){}",
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
            segment_names.into_iter().collect::<Vec<_>>().join(", "),
            if subsegments.is_empty() {
                String::new()
            } else {
                format!("; subsegments {}", subsegments.join(", "))
            },
            if faults > 0 {
                format!(", {faults} with a fault or an error")
            } else {
                String::new()
            }
        ),
    ));
    // What keeps a route's segment from arriving, the same for every route.
    // A subsegment never ended keeps its segment from being sent.
    let held = ctx.code.iter().find_map(|f| {
        let open = f.facts.open_subsegments.first()?;
        Some(format!("{}:{}", shown_file(ctx, &f.path), open.begin_line))
    });
    // A segment begun in a request is sent in place of the route's.
    let replaced = ctx.code.iter().find_map(|f| {
        let begun = f
            .facts
            .calls_to("begin_segment")
            .find(|c| c.function.is_some() && !c.guarded)?;
        Some(format!("{}:{}", shown_file(ctx, &f.path), begun.line))
    });
    for (route, _, _) in asked.iter().filter(|(_, status, _)| ran(*status)) {
        let arrived = segments
            .iter()
            .any(|d| !d.is_subsegment && d.path.as_deref() == Some(route.path.as_str()));
        if arrived {
            continue;
        }
        if held.is_none()
            && let Some(at) = &replaced
        {
            out.push(Finding::warn(
                CheckId::DeepXray,
                Layer::Code,
                format!("GET {}: no segment for it arrived as the service: begin_segment() at {at} replaced the middleware's", route.path),
            ));
            continue;
        }
        // Without one, a missing segment is most often sampling's choice.
        let Some(at) = &held else { continue };
        out.push(
            Finding::fail(
                CheckId::DeepXray,
                Layer::Code,
                format!("GET {}: its X-Ray segment never arrived: a subsegment begun at {at} is not ended on every path, and the SDK sends a segment only once all its subsegments are closed", route.path),
            )
            .fix(format!("with xray_recorder.in_subsegment(NAME) as subsegment:   # at {at}, ends it on every path")),
        );
    }
    let mut open: Vec<&str> = segments
        .iter()
        .flat_map(|d| d.open.iter().map(String::as_str))
        .collect();
    open.sort_unstable();
    open.dedup();
    for name in open {
        let at = ctx
            .code
            .iter()
            .flat_map(|f| f.facts.calls.iter().map(move |c| (f, c)))
            .find(|(_, c)| {
                c.method() == "begin_subsegment"
                    && c.args.first()
                        == Some(&crate::workspace::python::Value::Str(name.to_string()))
            })
            .map(|(f, c)| format!("{}:{}", shown_file(ctx, &f.path), c.line));
        out.push(
            Finding::fail(
                CheckId::DeepXray,
                Layer::Code,
                format!("the X-Ray subsegment {name:?} was still open when its segment was sent: it is never ended on some path{}", at.as_ref().map(|a| format!(" (begun at {a})")).unwrap_or_default()),
            )
            .fix("with xray_recorder.in_subsegment(NAME) as subsegment:   # ends it on every path"),
        );
    }
    out
}

/// A place in the code, from the workspace: `backend-flask/app.py:12`.
fn shown_file(ctx: &Context, path: &std::path::Path) -> String {
    path.strip_prefix(&ctx.dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where the code sets attribute `key`, if it does.
fn set_attribute_at(ctx: &Context, key: &str) -> Option<String> {
    ctx.live_calls()
        .find(|(_, c)| {
            c.method() == "set_attribute"
                && c.args.first() == Some(&crate::workspace::python::Value::Str(key.to_string()))
        })
        .map(|(f, c)| format!("{}:{}", shown_file(ctx, &f.path), c.line))
}

/// Attributes that arrived as the text of a function or method: passed
/// without the call (`now.isoformat`). Newer SDKs send the text, older
/// ones drop the value; either way the lab's value is not there.
pub(super) fn method_texts(ctx: &Context, spans: &[ReceivedSpan]) -> Vec<Finding> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for span in spans {
        for (key, value) in span.attributes() {
            let Some(text) = value.as_str() else { continue };
            let is_method = ["<bound method ", "<built-in method ", "<function "]
                .iter()
                .any(|p| text.starts_with(p));
            if is_method && !keys.iter().any(|(k, _)| *k == key) {
                keys.push((key, text.to_string()));
            }
        }
    }
    keys.into_iter()
        .map(|(key, text)| {
            let at = set_attribute_at(ctx, &key);
            Finding::fail(
                CheckId::DeepSdkWarning,
                Layer::Code,
                format!(
                    "the span attribute {key:?} arrived as {text:?}: a method passed without its call{}",
                    at.as_ref().map(|a| format!(", at {a}")).unwrap_or_default()
                ),
            )
            .fix(format!("{}: call it (now.isoformat())", at.unwrap_or_else(|| format!("span.set_attribute({key:?}, ...)"))))
        })
        .collect()
}

pub(super) fn warning_findings(
    ctx: &Context,
    warnings: &[SdkWarning],
    methods_named: bool,
) -> Vec<Finding> {
    warnings
        .iter()
        // A method's text is named by its attribute already: the same root.
        .filter(|w| !(methods_named && matches!(w, SdkWarning::AttributeDropped { key, .. } if key.is_empty())))
        .map(|warning| match warning {
            SdkWarning::AttributeDropped { key, line } => {
                let at = set_attribute_at(ctx, key);
                let what = if key.is_empty() {
                    "an attribute value".to_string()
                } else {
                    format!("the attribute {key:?}")
                };
                Finding::fail(
                    CheckId::DeepSdkWarning,
                    Layer::Code,
                    format!(
                        "the OpenTelemetry SDK could not take {what}{}: {line}",
                        at.as_ref().map(|a| format!(" set at {a}")).unwrap_or_default()
                    ),
                )
                .fix(format!(
                    "{}: give it a str, bool, int or float (or a list of one of them)",
                    at.unwrap_or_else(|| "the set_attribute call".into())
                ))
            }
            SdkWarning::ExportFailed { line } => Finding::fail(
                CheckId::DeepSdkWarning,
                Layer::Code,
                format!("the OTLP exporter failed to send: {line}"),
            )
            .fix("tracelab doctor --online   # asks the destination itself"),
            SdkWarning::NoSegment { line } => Finding::fail(
                CheckId::DeepSdkWarning,
                Layer::Code,
                format!("the X-Ray SDK found no segment to record in: {line}"),
            )
            .fix("begin subsegments only inside a request the X-Ray middleware traces, or under xray_recorder.in_segment(...)"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::Status;

    #[test]
    fn what_the_static_checks_named_is_confirmed_not_repeated() {
        let mut static_findings = vec![
            Finding::fail(
                CheckId::CodeUnreachable,
                Layer::Code,
                "./backend-flask/services/home_activities.py:53: set_attribute after return",
            ),
            Finding::warn(
                CheckId::OtlpServiceName,
                Layer::Compose,
                "OTEL_SERVICE_NAME comes from ${X}, which is set nowhere",
            ),
        ];
        let probed = vec![
            Finding::warn(
                CheckId::DeepLabSpan,
                Layer::Code,
                "the lab's span arrived without app.result_length (set at backend-flask/services/home_activities.py:53)",
            ),
            Finding::warn(
                CheckId::DeepSpans,
                Layer::Code,
                "spans arrive as unknown_service:python3",
            ),
            Finding::info(
                CheckId::DeepRoute,
                Layer::Code,
                "GET /x answered 500 at backend-flask/app.py:9",
            ),
        ];
        let kept = as_confirmations(probed, &mut static_findings);
        // What the static report named is not said twice: its finding is
        // marked confirmed; the 500 it did not name is the run's own.
        let statuses: Vec<Status> = kept.iter().map(|f| f.status).collect();
        assert_eq!(statuses, [Status::Info]);
        assert!(static_findings.iter().all(|f| f.confirmed));
        // The run saw spans arrive under unknown_service, where the
        // student will not look: the static warning stays a warning.
        assert_eq!(static_findings[1].status, Status::Warn);
    }
}
