//! The web view of `tracelab listen` and `tracelab show --web`: its JSON
//! read as the page reads it, and the page itself in real headless Chromium
//! while the generated app sends a trace.

use std::time::Duration;

use crate::common::browser::Browser;
use crate::common::listener::{Listener, agent, post};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{Span, span};
use prost::Message;
use serde_json::Value;
use tracelab::otlp::{request_for, string_attribute};

fn fetch(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

fn fetch_json(url: &str) -> Value {
    let (status, body) = fetch(url);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn trace(id: u8, route: &str, duration_ms: u64, error: bool) -> Vec<Span> {
    let start = 1_700_000_000_000_000_000u64 + u64::from(id) * 1_000_000_000;
    let attribute = |k: &str, v: &str| -> KeyValue { string_attribute(k, v) };
    vec![
        Span {
            trace_id: vec![id; 16],
            span_id: vec![1; 8],
            name: format!("GET {route}"),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + duration_ms * 1_000_000,
            attributes: vec![attribute("http.route", route)],
            ..Default::default()
        },
        Span {
            trace_id: vec![id; 16],
            span_id: vec![2; 8],
            parent_span_id: vec![1; 8],
            name: "query".into(),
            kind: 1,
            start_time_unix_nano: start + 1_000_000,
            end_time_unix_nano: start + 2_000_000,
            events: vec![span::Event {
                name: "exception".into(),
                time_unix_nano: start + 1_500_000,
                attributes: vec![attribute("exception.type", "ValueError")],
                ..Default::default()
            }],
            status: error.then(|| opentelemetry_proto::tonic::trace::v1::Status {
                code: 2,
                message: "boom".into(),
            }),
            ..Default::default()
        },
    ]
}

/// The waterfall's axis: from 0, on round steps (1, 2 or 5 times a power
/// of ten), at least three.
fn assert_round_ticks(axis: &Value) {
    let values: Vec<f64> = axis
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let text = t.as_str().unwrap();
            match text.strip_suffix(" ms") {
                Some(ms) => ms.parse::<f64>().unwrap(),
                None => text.strip_suffix(" s").unwrap().parse::<f64>().unwrap() * 1000.0,
            }
        })
        .collect();
    assert!(values.len() >= 3, "{axis}");
    assert_eq!(values[0], 0.0, "{axis}");
    let step = values[1];
    let power = 10f64.powf(step.log10().floor());
    assert!(
        [1.0, 2.0, 5.0]
            .iter()
            .any(|m| ((m * power) - step).abs() < 1e-9 * step.max(1.0)),
        "a round step: {axis}"
    );
    for (i, value) in values.iter().enumerate() {
        assert!(
            (value - step * i as f64).abs() < 1e-6 * step.max(1.0),
            "even steps: {axis}"
        );
    }
}

fn send(url: &str, service: &str, spans: Vec<Span>) {
    let body = request_for(service, spans).encode_to_vec();
    assert_eq!(post(url, "application/x-protobuf", None, &body).0, 200);
}

#[test]
fn the_list_sorts_and_filters_and_a_trace_has_its_waterfall_and_download() {
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    send(
        &listener.url,
        "backend-flask",
        trace(1, "/api/activities/home", 30, false),
    );
    send(
        &listener.url,
        "unknown_service:python",
        trace(2, "/api/messages", 80, true),
    );
    send(
        &listener.url,
        "backend-flask",
        trace(3, "/api/activities/home", 5, false),
    );

    let list = fetch_json(&format!("{web}/api/traces?sort=duration&order=asc"));
    let order: Vec<f64> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["duration_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(order, [5.0, 30.0, 80.0]);
    assert_eq!(list["kept"], 3);
    let failing = &list["traces"][2];
    assert_eq!(failing["errors"], 1);
    assert_eq!(failing["unknown_service"], true);
    assert_eq!(failing["state"], "complete");

    let by_service = fetch_json(&format!("{web}/api/traces?service=backend-flask"));
    assert_eq!(by_service["matched"], 2);
    let by_name = fetch_json(&format!("{web}/api/traces?name=MESSAGES"));
    assert_eq!(by_name["matched"], 1);
    let by_attribute = fetch_json(&format!(
        "{web}/api/traces?attr={}",
        "http.route%3D%2Fapi%2Factivities%2Fhome"
    ));
    assert_eq!(by_attribute["matched"], 2);
    let by_key = fetch_json(&format!("{web}/api/traces?attr=exception.type"));
    assert_eq!(
        by_key["matched"], 0,
        "event attributes are not span attributes"
    );

    let id = "02".repeat(16);
    let detail = fetch_json(&format!("{web}/api/traces/{id}"));
    let spans = detail["spans"].as_array().unwrap();
    assert_eq!(spans[0]["name"], "GET /api/messages");
    assert_eq!(spans[1]["depth"], 1);
    assert_eq!(spans[1]["offset_ms"], 1.0);
    assert_eq!(spans[1]["status_message"], "boom");
    assert_eq!(
        spans[1]["events"][0]["attributes"]["exception.type"],
        "ValueError"
    );
    assert_eq!(
        spans[1]["resource"]["service.name"],
        "unknown_service:python"
    );
    assert!(
        detail["unknown_service"]
            .as_str()
            .unwrap()
            .contains("set OTEL_SERVICE_NAME")
    );

    // The download is the trace as OTLP JSON: it replays to the same spans.
    let mut response = agent()
        .get(format!("{web}/api/traces/{id}/otlp.json"))
        .call()
        .unwrap();
    let disposition = response
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"trace-{id}.json\"")
    );
    let downloaded = response.body_mut().read_to_string().unwrap();
    let replayed =
        tracelab::otlp::decode(downloaded.as_bytes(), tracelab::otlp::Encoding::Json, false)
            .unwrap();
    let sent = tracelab::otlp::decode(
        &request_for(
            "unknown_service:python",
            trace(2, "/api/messages", 80, true),
        )
        .encode_to_vec(),
        tracelab::otlp::Encoding::Protobuf,
        false,
    )
    .unwrap();
    assert_eq!(replayed, sent);

    let (status, text) = fetch(&format!("{web}/api/traces/{}", "0f".repeat(16)));
    assert_eq!(status, 404);
    assert!(
        text.contains("dropped to keep the last --keep traces"),
        "{text}"
    );
    listener.interrupt();
}

/// Behind a forwarded port the page is served under another origin: every
/// asset it uses is relative, and nothing comes from the internet.
/// A server span entered from a service that does not export here (the
/// frontend's fetch): the list and the trace's pane say the same thing.
#[test]
fn a_remote_parent_is_named_alike_in_the_list_and_the_pane() {
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    let mut spans = trace(7, "/api/activities/home", 20, false);
    spans[0].parent_span_id = vec![9; 8];
    send(&listener.url, "backend-flask", spans);
    let list = fetch_json(&format!("{web}/api/traces"));
    let listed = &list["traces"][0];
    assert_eq!(listed["state"], "remote parent", "{list:#}");
    let id = listed["id"].as_str().unwrap();
    let detail = fetch_json(&format!("{web}/api/traces/{id}"));
    assert_eq!(detail["state"], "remote parent");
    assert_eq!(detail["gaps"][0]["kind"], "remote parent", "{detail:#}");
    assert!(
        detail["gaps"][0]["text"]
            .as_str()
            .unwrap()
            .contains("its parent is remote")
    );
    listener.interrupt();
}

#[test]
fn the_page_uses_only_relative_embedded_assets() {
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    let (status, html) = fetch(&format!("{web}/"));
    assert_eq!(status, 200);
    let (_, js) = fetch(&format!("{web}/app.js"));
    let (_, css) = fetch(&format!("{web}/app.css"));
    for (name, text) in [("index.html", &html), ("app.js", &js), ("app.css", &css)] {
        // SVG's namespace is a name, never fetched.
        let text = &text.replace("\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
            "{name} names an absolute URL"
        );
        assert!(
            !text.contains("\"/api") && !text.contains("'/api") && !text.contains("fetch(\"/"),
            "{name} uses an absolute path"
        );
    }
    assert!(html.contains("src=\"./app.js\"") && html.contains("href=\"./app.css\""));
    listener.interrupt();
}

/// A page asking for news is answered as soon as a trace comes.
#[test]
fn a_waiting_page_hears_of_a_new_trace_at_once() {
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    let version = fetch_json(&format!("{web}/api/traces"))["version"]
        .as_u64()
        .unwrap();
    let url = format!("{web}/api/traces?after={version}");
    let waiting = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        (fetch_json(&url), started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    send(&listener.url, "api", trace(4, "/", 1, false));
    let (list, took) = waiting.join().unwrap();
    assert_eq!(list["kept"], 1);
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    listener.interrupt();
}

#[test]
fn show_serves_saved_traces_in_the_web_view() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("saved.jsonl");
    let lines = [1u8, 2].map(|id| {
        tracelab::otlp::json_line(&request_for(
            "backend-flask",
            trace(id, "/api/activities/home", 10, false),
        ))
    });
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (mut child, web) = crate::common::show_web(&file);
    let list = fetch_json(&format!("{web}/api/traces"));
    assert_eq!(list["kept"], 2);
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    // Ctrl-C ends every command with 130, as a shell reports SIGINT.
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

/// The generated app sends a trace while Chromium has the page open: the
/// list shows it, and its waterfall holds every span, in tree order, each
/// bar as wide as its share of the trace.
#[test]
fn chromium_shows_the_generated_apps_trace_as_a_waterfall() {
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    let mut browser = Browser::start();
    browser.open(&format!("{web}/"));
    browser.wait_for(
        "the empty list",
        Duration::from_secs(10),
        "document.getElementById('status').textContent.includes('0 traces')",
    );

    let (app, _workspace) = listener.run_generated_app();

    // The page learns of the trace by itself (no reload).
    let id = browser.wait_for(
        "the home trace in the list",
        Duration::from_secs(20),
        "[...document.querySelectorAll('#traces tbody tr')].map(r => r.dataset.traceId && r.cells[1].textContent.includes('/api/activities/home') && +r.cells[4].textContent > 1 ? r.dataset.traceId : null).find(Boolean) || null",
    );
    let id = id.as_str().unwrap().to_string();
    app.stop();
    browser.call(
        "Runtime.evaluate",
        serde_json::json!({"expression": format!("location.hash = 'trace={id}'")}),
    );
    let detail = fetch_json(&format!("{web}/api/traces/{id}"));
    let spans = detail["spans"].as_array().unwrap();
    let rows = browser.wait_for(
        "the waterfall",
        Duration::from_secs(10),
        &format!(
            "(() => {{ const rows = [...document.querySelectorAll('#waterfall .wf-row:not(.wf-axis)')]; return rows.length === {} ? rows.map(r => [r.dataset.spanId, r.querySelector('.wf-label').textContent, parseFloat(r.querySelector('.wf-bar').style.width), r.querySelector('.svc').scrollWidth <= r.querySelector('.svc').clientWidth]) : null; }})()",
            spans.len()
        ),
    );
    let total = detail["duration_ms"].as_f64().unwrap();
    for (row, span) in rows.as_array().unwrap().iter().zip(spans) {
        assert_eq!(row[0], span["span_id"], "spans out of tree order");
        assert_eq!(row[1], span["name"]);
        assert_eq!(row[3], true, "{}: the service name is cut", span["name"]);
        let width = row[2].as_f64().unwrap();
        let expected = span["duration_ms"].as_f64().unwrap() / total * 100.0;
        assert!(
            (width - expected).abs() < 0.01,
            "{}: bar {width}% for {expected}%",
            span["name"]
        );
    }
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"home-activities-mock-data"), "{names:?}");
    // A time axis from the start to the trace's duration, and counts in words.
    let axis = browser.eval(
        "[...document.querySelectorAll('#waterfall .wf-axis .wf-tick')].map(t => t.textContent)",
    );
    assert_round_ticks(&axis);
    let title = browser.eval("document.getElementById('trace-title').textContent");
    assert!(
        title
            .as_str()
            .unwrap()
            .contains(&format!("· {} spans", spans.len())),
        "{title}"
    );
    assert!(
        (rows[0][2].as_f64().unwrap() - 100.0).abs() < 0.01,
        "the root spans the trace"
    );

    // A span's attributes, events and resource open on a click.
    let manual = spans
        .iter()
        .position(|s| s["name"] == "home-activities-mock-data")
        .unwrap();
    browser.eval(&format!(
        "document.querySelectorAll('#waterfall .wf-row:not(.wf-axis)')[{manual}].click()"
    ));
    let shown = browser.wait_for(
        "the span's details",
        Duration::from_secs(5),
        "document.getElementById('span-detail').textContent",
    );
    let shown = shown.as_str().unwrap();
    assert!(
        shown.contains("app.result_length")
            && shown.contains("service.name")
            && shown.contains("backend-flask"),
        "{shown}"
    );

    if let Some(path) = std::env::var_os("TRACELAB_SCREENSHOT") {
        std::fs::write(path, browser.screenshot()).unwrap();
    }
    listener.interrupt();
}

/// `tracelab show --web` on one saved trace, as a student opens it.
fn serve_saved(spans: Vec<Span>) -> (std::process::Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("saved.jsonl");
    std::fs::write(
        &file,
        tracelab::otlp::json_line(&request_for("backend-flask", spans)),
    )
    .unwrap();
    let (child, web) = crate::common::show_web(&file);
    (child, web, dir)
}

/// The web view as a student sees it, at a desktop's 1400x900 and a
/// laptop's 1280x720: before a trace is chosen the page says what to do;
/// then every span name shows whole, the one service is named once, and
/// the axis is on round steps with gridlines.
#[test]
fn chromium_shows_whole_names_round_ticks_and_what_to_do_at_two_sizes() {
    let mut spans = trace(7, "/api/activities/home", 12, false);
    spans[1].name = "home-activities-mock-data-with-a-long-name".into();
    let (mut child, web, _dir) = serve_saved(spans);
    let mut browser = Browser::start();
    for (width, height) in [(1400, 900), (1280, 720)] {
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser.open(&format!("{web}/"));
        browser.wait_for(
            "the list",
            Duration::from_secs(10),
            "document.querySelectorAll('#traces tbody tr').length === 1",
        );
        let before = browser.eval(
            "JSON.stringify({hint: document.getElementById('trace-hint').hidden ? null : document.getElementById('trace-hint').textContent, pane: !document.getElementById('trace-pane').hidden, listHint: document.querySelector('#list-pane .hint').textContent})",
        );
        let before: Value = serde_json::from_str(before.as_str().unwrap()).unwrap();
        assert!(
            before["hint"]
                .as_str()
                .unwrap()
                .starts_with("Click a trace in the list"),
            "{before}"
        );
        assert_eq!(before["pane"], true, "no blank half: {before}");
        assert!(
            before["listHint"]
                .as_str()
                .unwrap()
                .contains("Click a trace"),
            "{before}"
        );
        browser.eval("document.querySelector('#traces tbody tr').click()");
        let rows = browser.wait_for(
            "the waterfall",
            Duration::from_secs(10),
            "(() => { const rows = [...document.querySelectorAll('#waterfall .wf-row[data-span-id]')]; return rows.length === 2 ? rows.map(r => { const l = r.querySelector('.wf-label'); return [l.textContent, l.scrollWidth <= l.clientWidth, getComputedStyle(r.querySelector('.svc')).display]; }) : null; })()",
        );
        for row in rows.as_array().unwrap() {
            assert_eq!(row[1], true, "{} is cut at {width}x{height}", row[0]);
            assert_eq!(row[2], "none", "one service: not on every row");
        }
        let title = browser.eval("document.getElementById('trace-title').textContent");
        assert!(
            title.as_str().unwrap().ends_with("· backend-flask"),
            "{title}"
        );
        assert_round_ticks(&browser.eval("[...document.querySelectorAll('#waterfall .wf-axis .wf-tick')].map(t => t.textContent)"));
        let grid =
            browser.eval("document.getElementById('waterfall').style.getPropertyValue('--grid')");
        assert!(
            grid.as_str().unwrap().contains("linear-gradient"),
            "gridlines: {grid}"
        );
        let wide = browser.eval("document.documentElement.scrollWidth > window.innerWidth");
        assert_eq!(wide, false, "fits {width}x{height}");
        if let Some(dir) = std::env::var_os("TRACELAB_SCREENSHOTS") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("waterfall-{width}.png")),
                browser.screenshot(),
            )
            .unwrap();
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// A one-shot render (a README screenshot, `--virtual-time-budget`)
/// finishes: the page does not hold a long-poll open in a headless browser.
#[test]
fn a_headless_one_shot_screenshot_settles() {
    let (mut child, web, dir) = serve_saved(trace(8, "/api/activities/home", 12, false));
    let shot = dir.path().join("shot.png");
    let started = std::time::Instant::now();
    let status = std::process::Command::new(crate::common::browser::chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,720",
            "--virtual-time-budget=3000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("{web}/#trace={}", "08".repeat(16)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
        .wait_timeout_or_kill(Duration::from_secs(40));
    assert!(status, "Chromium did not settle in 40 s");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    assert!(started.elapsed() < Duration::from_secs(40));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

trait WaitOrKill {
    fn wait_timeout_or_kill(self, timeout: Duration) -> bool;
}

impl WaitOrKill for std::process::Child {
    /// Whether it ended by itself within `timeout` (else it is killed).
    fn wait_timeout_or_kill(mut self, timeout: Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(_)) = self.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.kill();
        let _ = self.wait();
        false
    }
}
