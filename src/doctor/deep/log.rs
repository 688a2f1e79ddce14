//! What the backend's own output says: the exception a traceback ends
//! with and the innermost line of the project it passed through, and the
//! warnings the OpenTelemetry and X-Ray SDKs log when they drop data.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// A Python exception, and where in the project it was raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    /// `NameError: name 'LOGGER' is not defined`.
    pub exception: String,
    /// `services/home_activities.py:12`, relative to the backend folder;
    /// None when no frame is the project's.
    pub at: Option<String>,
}

static FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*File "([^"]+)", line (\d+)"#).expect("a valid pattern"));

const NOT_PRINTED: &str = "an exception (its last line was not printed)";

impl Raised {
    /// Whether its exception line was read.
    pub fn printed(&self) -> bool {
        self.exception != NOT_PRINTED
    }
}

static EXCEPTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][\w.]*(?::\s|$)").expect("a valid pattern"));

/// The last traceback in `lines` that passed through the project, else
/// the last one: an exporter's thread may print its own between a
/// request's lines.
pub fn last_exception(lines: &[String], backend_dir: &Path) -> Option<Raised> {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("Traceback (most recent call last):"))
        .map(|(at, _)| at)
        .collect();
    let all: Vec<Raised> = starts
        .iter()
        .map(|start| traceback(&lines[start + 1..], backend_dir))
        .collect();
    let project = all.iter().rposition(|r| r.at.is_some());
    let chosen = project.or(all.len().checked_sub(1))?;
    all.into_iter().nth(chosen)
}

/// One traceback's innermost project frame and the exception it ends with.
fn traceback(lines: &[String], backend_dir: &Path) -> Raised {
    let mut at = None;
    let mut exception = None;
    for line in lines {
        if let Some(frame) = FRAME.captures(line) {
            if let Some(place) = project_place(&frame[1], &frame[2], backend_dir) {
                at = Some(place);
            }
            continue;
        }
        // The exception line is the first one back at the margin that
        // reads `Name: message` (a frame's source lines are indented).
        if !line.starts_with(' ') && EXCEPTION.is_match(line) {
            exception = Some(line.trim().to_string());
            break;
        }
    }
    Raised {
        exception: exception.unwrap_or_else(|| NOT_PRINTED.into()),
        at,
    }
}

/// `file:line` for a frame in the project: under the backend folder, not
/// in its venv or any installed package.
fn project_place(file: &str, line: &str, backend_dir: &Path) -> Option<String> {
    if file.contains("site-packages") || file.contains("/.venv/") || file.starts_with('<') {
        return None;
    }
    let path = Path::new(file);
    let dir = std::fs::canonicalize(backend_dir).unwrap_or_else(|_| backend_dir.to_path_buf());
    let relative = path
        .strip_prefix(&dir)
        .or_else(|_| path.strip_prefix(backend_dir))
        .ok()?;
    Some(format!("{}:{line}", relative.display()))
}

static ANNOUNCED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Running on|Listening at:?) https?://[^\s:/]+:(\d+)").expect("a valid pattern")
});

/// The port the server said it listens on (`* Running on
/// http://127.0.0.1:4567`, gunicorn's `Listening at: http://0.0.0.0:4567`).
pub fn announced_port(lines: &[String]) -> Option<u16> {
    lines
        .iter()
        .find_map(|l| ANNOUNCED.captures(l)?.get(1)?.as_str().parse().ok())
}

/// A warning an SDK logged when it dropped or failed to send data.
#[derive(Debug, Clone, PartialEq)]
pub enum SdkWarning {
    /// OpenTelemetry could not take an attribute value: it dropped it, or
    /// (since it takes any value) sent its text. `key` is empty when the
    /// SDK did not say.
    AttributeDropped { key: String, line: String },
    /// The OTLP exporter could not send a batch.
    ExportFailed { line: String },
    /// The X-Ray SDK found no segment to put a subsegment in.
    NoSegment { line: String },
}

/// `Invalid type dict for attribute 'app.x' value` (SDKs before 1.3x drop
/// the value), or `` Invalid type `<class 'method'>` for attribute value ``
/// (newer ones send its text instead, and name no key).
static INVALID_ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Invalid type (?:`[^`]*`|\S+) for attribute(?: '([^']*)')? value")
        .expect("a valid pattern")
});

/// Each SDK warning in `lines`, once.
pub fn sdk_warnings(lines: &[String]) -> Vec<SdkWarning> {
    let mut found: Vec<SdkWarning> = Vec::new();
    for line in lines {
        let warning = if let Some(c) = INVALID_ATTRIBUTE.captures(line) {
            SdkWarning::AttributeDropped {
                key: c.get(1).map_or("", |k| k.as_str()).to_string(),
                line: line.trim().to_string(),
            }
        } else if line.contains("Failed to export") || line.contains("Transient error") {
            SdkWarning::ExportFailed {
                line: line.trim().to_string(),
            }
        } else if line.contains("cannot find the current segment")
            || line.contains("SegmentNotFoundException")
        {
            SdkWarning::NoSegment {
                line: line.trim().to_string(),
            }
        } else {
            continue;
        };
        if !found.contains(&warning) {
            found.push(warning);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn the_innermost_project_frame_and_the_exception_are_found() {
        let dir = Path::new("/ws/backend-flask");
        let log = lines(
            r#"127.0.0.1 - - "GET / HTTP/1.1" 200 -
Traceback (most recent call last):
  File "/ws/backend-flask/.venv/lib/python3.12/site-packages/flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
  File "/ws/backend-flask/app.py", line 40, in data_home
    return jsonify(HomeActivities.run())
  File "/ws/backend-flask/services/home_activities.py", line 12, in run
    LOGGER.info("home")
  File "/ws/backend-flask/.venv/lib/python3.12/site-packages/x.py", line 3, in f
NameError: name 'LOGGER' is not defined
127.0.0.1 - - "GET /x HTTP/1.1" 500 -"#,
        );
        let mut log = log;
        // An exporter thread's traceback after the request's own.
        log.extend(lines(
            "Traceback (most recent call last):\n  File \"/ws/backend-flask/.venv/lib/python3.12/site-packages/requests/adapters.py\", line 729, in send\n    raise ConnectionError(e)\n}\nrequests.exceptions.ConnectionError: no route",
        ));
        let raised = last_exception(&log, dir).unwrap();
        assert_eq!(raised.exception, "NameError: name 'LOGGER' is not defined");
        assert_eq!(raised.at.as_deref(), Some("services/home_activities.py:12"));
        assert!(last_exception(&log[..1], dir).is_none());
        let exporter_only = &log[log.len() - 5..];
        let raised = last_exception(exporter_only, dir).unwrap();
        assert_eq!(
            raised.exception,
            "requests.exceptions.ConnectionError: no route"
        );
        assert_eq!(raised.at, None);
    }

    #[test]
    fn the_port_a_server_announces_is_read() {
        let flask =
            lines(" * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:4567");
        assert_eq!(announced_port(&flask), Some(4567));
        let gunicorn = lines("[INFO] Listening at: http://0.0.0.0:5000 (12)");
        assert_eq!(announced_port(&gunicorn), Some(5000));
        assert_eq!(announced_port(&lines("starting")), None);
    }

    #[test]
    fn sdk_warnings_are_named_once() {
        let log = lines(
            "Invalid type dict for attribute 'app.payload' value. Expected one of ['bool', 'str', 'bytes', 'int', 'float'] or a sequence of those types\n\
             Invalid type dict for attribute 'app.payload' value. Expected one of ['bool', 'str', 'bytes', 'int', 'float'] or a sequence of those types\n\
             Failed to export batch code: 401, reason: unknown API key\n\
             cannot find the current segment/subsegment, please make sure you have a segment open\n\
             Invalid type `<class 'builtin_function_or_method'>` for attribute value. Expected one of bool, str, None, bytes, int, float or a Mapping or Sequence of those types.",
        );
        let warnings = sdk_warnings(&log);
        assert_eq!(warnings.len(), 4);
        assert!(matches!(&warnings[3], SdkWarning::AttributeDropped { key, .. } if key.is_empty()));
        assert!(
            matches!(&warnings[0], SdkWarning::AttributeDropped { key, .. } if key == "app.payload")
        );
    }
}
