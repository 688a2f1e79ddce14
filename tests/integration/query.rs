//! `tracelab show --query`: Honeycomb's Query Specification offline.
//! Random spans and random specifications are run by tracelab and by a
//! plain reference written apart from it (tests/support/query_reference.py);
//! the results must agree row for row. Then the lab's own queries (seeds:
//! COUNT by trace.trace_id, P90, a HEATMAP of duration_ms) as named tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common;

/// 12:00:00 UTC on a day in 2026, in seconds.
const NOON: u64 = 1_780_000_000 - 1_780_000_000 % 86_400 + 43_200;

#[derive(Debug, Clone)]
struct SpanSpec {
    trace: u8,
    span: u8,
    parent: Option<u8>,
    service: usize,
    name: usize,
    start_s: u64,
    start_ns: u32,
    duration_us: u64,
    kind: i32,
    status: i32,
    http_status: Option<i64>,
    user: Option<usize>,
    ratio: Option<f64>,
    flag: Option<bool>,
}

const SERVICES: [&str; 3] = ["backend-flask", "frontend", "worker"];
const NAMES: [&str; 5] = [
    "GET /api/activities/home",
    "home-activities-mock-data",
    "SELECT",
    "/api/health-check",
    "send",
];
const USERS: [&str; 4] = ["andrew", "brown", "an-drew", ""];

fn span_spec() -> impl Strategy<Value = SpanSpec> {
    (
        (
            0u8..6,
            1u8..40,
            prop::option::of(1u8..40),
            0usize..3,
            0usize..5,
        ),
        // Within three hours before noon: some outside the default two.
        (
            0u64..10_800,
            0u32..1_000_000_000,
            0u64..2_000_000,
            0i32..6,
            0i32..3,
        ),
        (
            prop::option::of(prop::sample::select(vec![200i64, 201, 404, 500])),
            prop::option::of(0usize..4),
            prop::option::of((0u32..400).prop_map(|n| f64::from(n) / 4.0)),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (trace, span, parent, service, name),
                (start, ns, duration_us, kind, status),
                (http_status, user, ratio, flag),
            )| SpanSpec {
                trace,
                span,
                parent,
                service,
                name,
                start_s: NOON - 10_800 + start,
                start_ns: ns,
                duration_us,
                kind,
                status,
                http_status,
                user,
                ratio,
                flag,
            },
        )
}

fn attribute(key: &str, value: Value) -> Value {
    let typed = match value {
        Value::String(s) => json!({ "stringValue": s }),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) if n.is_i64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n.as_f64() }),
        _ => unreachable!(),
    };
    json!({ "key": key, "value": typed })
}

/// The spans as OTLP/JSON lines: a request per service, as exporters send.
fn otlp_lines(spans: &[SpanSpec]) -> String {
    let mut lines = String::new();
    for (index, service) in SERVICES.iter().enumerate() {
        let mine: Vec<Value> = spans
            .iter()
            .filter(|s| s.service == index)
            .map(|s| {
                let start = s.start_s * 1_000_000_000 + u64::from(s.start_ns);
                let mut attributes = Vec::new();
                if let Some(code) = s.http_status {
                    attributes.push(attribute("http.status_code", json!(code)));
                }
                if let Some(user) = s.user {
                    attributes.push(attribute("app.user", json!(USERS[user])));
                }
                if let Some(ratio) = s.ratio {
                    attributes.push(attribute("app.ratio", json!(ratio)));
                }
                if let Some(flag) = s.flag {
                    attributes.push(attribute("app.flag", json!(flag)));
                }
                let mut span = json!({
                    "traceId": format!("{:032x}", u128::from(s.trace) + 0xabc0),
                    "spanId": format!("{:016x}", u64::from(s.span) + 0x10),
                    "name": NAMES[s.name],
                    "kind": s.kind,
                    "startTimeUnixNano": start.to_string(),
                    "endTimeUnixNano": (start + s.duration_us * 1000).to_string(),
                    "attributes": attributes,
                });
                if let Some(parent) = s.parent {
                    span["parentSpanId"] = json!(format!("{:016x}", u64::from(parent) + 0x10));
                }
                if s.status > 0 {
                    span["status"] = json!({ "code": s.status, "message": if s.status == 2 { "boom" } else { "" } });
                }
                span
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let request = json!({ "resourceSpans": [{
            "resource": { "attributes": [attribute("service.name", json!(service))] },
            "scopeSpans": [{ "scope": { "name": "opentelemetry.instrumentation.flask" }, "spans": mine }],
        }]});
        lines.push_str(&request.to_string());
        lines.push('\n');
    }
    lines
}

const COLUMNS: [&str; 9] = [
    "name",
    "service.name",
    "span.kind",
    "status_code",
    "http.status_code",
    "app.user",
    "app.flag",
    "error",
    "trace.parent_id",
];
const NUMERIC: [&str; 4] = [
    "duration_ms",
    "http.status_code",
    "app.ratio",
    "status_code",
];
const OPS: [&str; 12] = [
    "COUNT",
    "CONCURRENCY",
    "COUNT_DISTINCT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "P50",
    "P90",
    "P99",
    "P001",
    "HEATMAP",
];
const FILTER_OPS: [&str; 14] = [
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "starts-with",
    "does-not-start-with",
    "contains",
    "does-not-contain",
    "exists",
    "does-not-exist",
    "in",
    "not-in",
];

fn filter_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![200i64, 404, 500, 0, 1, 2]).prop_map(Value::from),
        prop::sample::select(vec![
            "andrew",
            "an",
            "GET",
            "backend-flask",
            "server",
            "404",
            "true",
            "",
            "2.5"
        ])
        .prop_map(Value::from),
        (0u32..400).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        any::<bool>().prop_map(Value::from),
    ]
}

fn calculation() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(OPS.to_vec()),
        prop::sample::select(NUMERIC.to_vec()),
        prop::sample::select(COLUMNS.to_vec()),
    )
        .prop_map(|(op, numeric, any)| match op {
            "COUNT" | "CONCURRENCY" => json!({ "op": op }),
            "COUNT_DISTINCT" => json!({ "op": op, "column": any }),
            _ => json!({ "op": op, "column": numeric }),
        })
}

fn filter() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(
            COLUMNS
                .iter()
                .chain(NUMERIC.iter())
                .copied()
                .collect::<Vec<_>>(),
        ),
        prop::sample::select(FILTER_OPS.to_vec()),
        filter_value(),
        prop::collection::vec(filter_value(), 1..3),
    )
        .prop_map(|(column, op, value, values)| match op {
            "exists" | "does-not-exist" => json!({ "column": column, "op": op }),
            "in" | "not-in" => json!({ "column": column, "op": op, "value": values }),
            _ => json!({ "column": column, "op": op, "value": value }),
        })
}

/// A valid specification: orders and havings name what it computes.
fn query_spec() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop::sample::select(COLUMNS.to_vec()), 0..3),
        prop::collection::vec(calculation(), 1..4),
        prop::collection::vec(filter(), 0..3),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), 0usize..3),
        (prop::option::of(0u32..3), prop::option::of(1usize..6)),
        prop::option::of(prop::sample::select(vec![600u64, 3600, 7200, 20_000])),
    )
        .prop_map(|(mut breakdowns, calculations, filters, or, (order_by_column, descending, having_kind), (having_at, limit), range)| {
            breakdowns.dedup();
            let mut spec = json!({ "breakdowns": breakdowns, "calculations": calculations, "filters": filters });
            if or {
                spec["filter_combination"] = json!("OR");
            }
            let direction = if descending { "descending" } else { "ascending" };
            let first = calculations_without_heatmap(&spec);
            let mut orders = Vec::new();
            if order_by_column && !breakdowns.is_empty() {
                orders.push(json!({ "column": breakdowns[0], "order": direction }));
            }
            if let Some(c) = &first {
                let mut term = c.clone();
                term["order"] = json!(direction);
                orders.push(term);
            }
            if having_kind > 0 && let (Some(c), Some(at)) = (&first, having_at) {
                let op = [">", "<=", "!="][at as usize];
                let mut having = json!({ "calculate_op": c["op"], "op": op, "value": 2 });
                if let Some(column) = c.get("column") {
                    having["column"] = column.clone();
                }
                spec["havings"] = json!([having]);
            }
            if !orders.is_empty() && having_kind != 1 {
                spec["orders"] = json!(orders);
            }
            if let Some(limit) = limit {
                spec["limit"] = json!(limit);
            }
            if let Some(range) = range {
                spec["time_range"] = json!(range);
            }
            spec
        })
}

fn calculations_without_heatmap(spec: &Value) -> Option<Value> {
    spec["calculations"]
        .as_array()?
        .iter()
        .find(|c| c["op"] != "HEATMAP" && !c["op"].as_str().unwrap().starts_with("RATE_"))
        .cloned()
}

/// What `command` printed, as JSON; it must succeed.
fn json_of(command: &mut Command) -> Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn tracelab_query(spans: &Path, spec: &Path) -> Value {
    json_of(
        Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .arg("show")
            .arg(spans)
            .arg("--query")
            .arg(format!("@{}", spec.display()))
            .arg("--json"),
    )
}

fn reference_query(spans: &Path, spec: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/query_reference.py");
    json_of(
        Command::new(common::python())
            .arg(script)
            .arg(spans)
            .arg(spec),
    )
}

/// Equal, numbers within a part in 10^9 (sums may add in another order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let spec = dir.path().join("spec.json");
    (dir, spans, spec)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tracelab_agrees_with_the_reference_on_random_spans_and_queries(
        spans in prop::collection::vec(span_spec(), 0..50),
        spec in query_spec(),
    ) {
        let (_dir, spans_file, spec_file) = scratch();
        std::fs::write(&spans_file, otlp_lines(&spans)).unwrap();
        std::fs::write(&spec_file, spec.to_string()).unwrap();
        let ours = tracelab_query(&spans_file, &spec_file);
        let theirs = reference_query(&spans_file, &spec_file);
        prop_assert!(
            same(&ours["results"], &theirs["results"]),
            "spec {spec}\ntracelab  {}\nreference {}",
            ours["results"], theirs["results"]
        );
    }
}

/// The lab's spans: three requests to home, one slow, and a health check.
fn lab_spans() -> Vec<SpanSpec> {
    let request =
        |trace: u8, at: u64, ms: u64, name: usize, parent: Option<u8>, span: u8| SpanSpec {
            trace,
            span,
            parent,
            service: 0,
            name,
            start_s: NOON - 600 + at,
            start_ns: 0,
            duration_us: ms * 1000,
            kind: if parent.is_some() { 1 } else { 2 },
            status: 0,
            http_status: parent.is_none().then_some(200),
            user: None,
            ratio: None,
            flag: None,
        };
    vec![
        request(1, 0, 12, 0, None, 1),
        request(1, 0, 5, 1, Some(1), 2),
        request(2, 60, 14, 0, None, 3),
        request(2, 60, 6, 1, Some(3), 4),
        request(3, 120, 950, 0, None, 5),
        request(3, 120, 900, 1, Some(5), 6),
        request(4, 180, 2, 3, None, 7),
    ]
}

fn lab_query(spec: Value) -> Value {
    let (_dir, spans_file, spec_file) = scratch();
    std::fs::write(&spans_file, otlp_lines(&lab_spans())).unwrap();
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    tracelab_query(&spans_file, &spec_file)
}

#[test]
fn seeds_count_grouped_by_trace_id() {
    let result =
        lab_query(json!({ "calculations": [{ "op": "COUNT" }], "breakdowns": ["trace.trace_id"] }));
    let rows = result["results"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let counts: Vec<u64> = rows.iter().map(|r| r["COUNT"].as_u64().unwrap()).collect();
    assert_eq!(counts, [2, 2, 2, 1], "most first");
    assert_eq!(rows[3]["trace.trace_id"], format!("{:032x}", 4 + 0xabc0));
}

#[test]
fn seeds_p90_of_duration() {
    let result = lab_query(json!({ "calculations": [{ "op": "P90", "column": "duration_ms" }] }));
    // Seven durations; nearest rank ceil(0.9 * 7) = 7: the largest, 950 ms.
    assert_eq!(result["results"][0]["P90(duration_ms)"], 950.0);
    let roots = lab_query(json!({
        "calculations": [{ "op": "P50", "column": "duration_ms" }],
        "filters": [{ "column": "trace.parent_id", "op": "does-not-exist" }],
    }));
    // Root spans only: 2, 12, 14, 950 ms; ceil(0.5 * 4) = 2nd: 12 ms.
    assert_eq!(roots["results"][0]["P50(duration_ms)"], 12.0);
    assert_eq!(roots["matched"], 4);
}

#[test]
fn seeds_heatmap_of_duration_partitions_the_range() {
    let result = lab_query(
        json!({ "calculations": [{ "op": "COUNT" }, { "op": "HEATMAP", "column": "duration_ms" }] }),
    );
    let buckets = result["results"][0]["HEATMAP(duration_ms)"]
        .as_array()
        .unwrap();
    assert_eq!(buckets.len(), 20);
    assert_eq!(buckets[0]["min"], 2.0);
    assert_eq!(buckets[19]["max"], 950.0);
    for pair in buckets.windows(2) {
        assert_eq!(pair[0]["max"], pair[1]["min"], "no gap, no overlap");
    }
    let total: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, result["results"][0]["COUNT"].as_u64().unwrap());
    // The slow band: the 900 and 950 ms spans, in the top buckets.
    assert_eq!(
        buckets[18]["count"].as_u64().unwrap() + buckets[19]["count"].as_u64().unwrap(),
        2
    );
}

#[test]
fn a_rate_is_the_change_between_time_buckets() {
    // One request a minute; in minute buckets, MAX(duration_ms) is 12, 14,
    // 950 and 2 ms: its rate is none, then +2, +936 and -948.
    let result = lab_query(json!({
        "calculations": [{ "op": "RATE_MAX", "column": "duration_ms" }],
        "time_range": 600,
        "granularity": 60,
    }));
    let rates: Vec<Value> = result["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["RATE_MAX(duration_ms)"].clone())
        .collect();
    assert_eq!(
        rates,
        [Value::Null, json!(2.0), json!(936.0), json!(-948.0)]
    );
    assert_eq!(
        result["results"][0]["RATE_MAX(duration_ms)"],
        Value::Null,
        "no value for the whole range"
    );
}

#[test]
fn concurrency_is_the_most_spans_in_progress_at_once() {
    // Each home request's child runs inside it: two at once, never three
    // (the requests are a minute apart).
    let result = lab_query(json!({ "calculations": [{ "op": "CONCURRENCY" }] }));
    assert_eq!(result["results"][0]["CONCURRENCY"], 2);
}

#[test]
fn the_terminal_shows_the_table_the_heatmap_and_the_honeycomb_link() {
    let (_dir, spans_file, _) = scratch();
    std::fs::write(&spans_file, otlp_lines(&lab_spans())).unwrap();
    let spec = r#"{"calculations":[{"op":"COUNT"},{"op":"P90","column":"duration_ms"},{"op":"HEATMAP","column":"duration_ms"}],"breakdowns":["name"]}"#;
    let output = common::tracelab()
        .arg("show")
        .arg(&spans_file)
        .args(["--query", spec])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "\nname                       COUNT  P90(duration_ms)  HEATMAP(duration_ms)\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\nGET /api/activities/home       3               950  █                  ▅\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("HEATMAP(duration_ms)\n"), "{stdout}");
    assert!(
        stdout.contains("902.60–950.00 │"),
        "the top bucket's row: {stdout}"
    );
    let link = stdout
        .lines()
        .find(|l| l.contains("ui.honeycomb.io/"))
        .unwrap();
    let query = link.split("?query=").nth(1).unwrap();
    let decoded: String = form_urlencoded::parse(format!("q={query}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    let sent: Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(
        sent,
        serde_json::from_str::<Value>(spec).unwrap(),
        "the same query, unchanged"
    );
    assert!(link.contains("/datasets/backend-flask?query="), "{link}");
}

#[test]
fn what_is_not_computed_is_refused_by_name_with_exit_2() {
    let (_dir, spans_file, _) = scratch();
    std::fs::write(&spans_file, otlp_lines(&lab_spans())).unwrap();
    let output = common::tracelab()
        .arg("show")
        .arg(&spans_file)
        .args([
            "--query",
            r#"{"calculated_fields":[{"name":"slow","expression":"GT($duration_ms, 100)"}]}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("calculated_fields"), "{stderr}");
}

/// `tracelab show FILE --web` on the lab's spans: the web view's URL, and
/// the process (stopped with Ctrl-C when dropped).
struct Served {
    child: std::process::Child,
    web: String,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn serve_lab_spans() -> Served {
    let (dir, spans_file, _) = scratch();
    std::fs::write(&spans_file, otlp_lines(&lab_spans())).unwrap();
    let (child, web) = common::show_web(&spans_file);
    Served {
        child,
        web,
        _dir: dir,
    }
}

#[test]
fn listen_answers_a_query_over_what_it_holds() {
    let served = serve_lab_spans();
    let spec = json!({ "calculations": [{ "op": "P90", "column": "duration_ms" }] }).to_string();
    let encoded: String = form_urlencoded::byte_serialize(spec.as_bytes()).collect();
    let (status, body) =
        common::app::get(&format!("{}/api/query?spec={encoded}", served.web)).unwrap();
    assert_eq!(status, 200, "{body}");
    let result: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(result["results"][0]["P90(duration_ms)"], 950.0);
    // A bad query is a 400 that says what is wrong.
    let (status, body) = common::app::get(&format!(
        "{}/api/query?spec=%7B%22limit%22%3A0%7D",
        served.web
    ))
    .unwrap();
    assert_eq!(status, 400);
    assert!(body.contains("limit"), "{body}");
}

#[test]
fn chromium_runs_the_labs_heatmap_from_the_url_and_a_band_lists_its_traces() {
    use crate::common::browser::Browser;
    let served = serve_lab_spans();
    let spec = json!({ "calculations": [{ "op": "COUNT" }, { "op": "HEATMAP", "column": "duration_ms" }], "time_range": 900 }).to_string();
    let encoded: String = form_urlencoded::byte_serialize(spec.as_bytes()).collect();
    let mut browser = Browser::start();
    for (width, height) in [(1400, 900), (1280, 720)] {
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser.open(&format!("{}/#query={encoded}", served.web));
        browser.wait_for(
            "the query's results",
            std::time::Duration::from_secs(10),
            "document.querySelectorAll('#q-table tbody tr').length > 0",
        );
        let facts = browser.eval(
            r#"JSON.stringify({
                tab: document.querySelector('.tab.active').textContent,
                list: document.getElementById('list-pane').hidden,
                count: document.querySelector('#q-table tbody td.num').textContent,
                status: document.getElementById('q-status').textContent,
                cells: document.querySelectorAll('#q-heatmaps .q-cell').length,
                link: document.getElementById('q-honeycomb').href,
                line: document.querySelectorAll('#q-chart polyline').length,
                wide: document.documentElement.scrollWidth > window.innerWidth,
            })"#,
        );
        let facts: Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
        assert_eq!(facts["tab"], "Query", "{facts:#}");
        assert_eq!(facts["list"], true, "the trace list gives way");
        assert_eq!(facts["count"], "7");
        assert!(
            facts["status"]
                .as_str()
                .unwrap()
                .starts_with("7 events from"),
            "{facts:#}"
        );
        assert!(facts["cells"].as_u64().unwrap() >= 3, "{facts:#}");
        assert_eq!(facts["line"], 1, "COUNT over time");
        assert!(
            facts["link"]
                .as_str()
                .unwrap()
                .contains("/datasets/backend-flask?query="),
            "{facts:#}"
        );
        assert_eq!(facts["wide"], false, "fits {width}x{height}");
        if let Some(dir) = std::env::var_os("TRACELAB_SCREENSHOTS") {
            std::fs::write(
                Path::new(&dir).join(format!("query-{width}.png")),
                browser.screenshot(),
            )
            .unwrap();
        }
    }
    // The slow band: a click lists the slow request's trace, which opens
    // in the Traces tab.
    browser.eval("document.querySelector('#q-heatmaps rect.q-cell[data-band=\"19\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    let band = browser.eval(
        "JSON.stringify([...document.querySelectorAll('#q-band a')].map(a => a.textContent))",
    );
    let band: Vec<String> = serde_json::from_str(band.as_str().unwrap()).unwrap();
    assert_eq!(band, [format!("{:032x}", 3 + 0xabc0)]);
    browser.eval("document.querySelector('#q-band a').click()");
    browser.wait_for("the trace", std::time::Duration::from_secs(10), "!document.getElementById('trace-pane').hidden && document.querySelectorAll('.wf-row[data-span-id]').length === 2");
    let tab = browser.eval("document.querySelector('.tab.active').textContent");
    assert_eq!(tab, "Traces");
}
