//! A fake Honeycomb on 127.0.0.1 that answers as the real API does:
//! `/1/auth` with the given answer for `KEY` and 401 for any other key,
//! `/v1/traces` 200 for `KEY` and 401 otherwise, 404 elsewhere. It records
//! every request, so a test can say what was asked and with which key.

use std::sync::{Arc, Mutex};

use super::doctor::KEY;

/// `/1/auth` for an ingest key of team "Bootcamp", environment "week2".
pub const INGEST_AUTH: &str = r#"{"id":"x","type":"ingest","api_key_access":{"events":true,"createDatasets":true},"team":{"name":"Bootcamp","slug":"bootcamp"},"environment":{"name":"week2","slug":"week2"}}"#;

#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    /// The x-honeycomb-team header, empty when there was none.
    pub key: String,
    pub body_len: usize,
}

pub struct FakeHoneycomb {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeHoneycomb {
    pub fn start(auth_answer: &'static str) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let key = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("x-honeycomb-team"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let path = request.url().to_string();
                let response = answer(&path, key == KEY, auth_answer);
                log.lock().unwrap().push(Request {
                    path,
                    key,
                    body_len: body.len(),
                });
                let _ = request.respond(response);
            }
        });
        FakeHoneycomb {
            url: format!("http://{addr}"),
            port: addr.port(),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    pub fn keys(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.key).collect()
    }
}

fn answer(
    path: &str,
    known_key: bool,
    auth_answer: &str,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
    match (path, known_key) {
        ("/1/auth", true) => tiny_http::Response::from_string(auth_answer).with_header(json),
        ("/1/auth" | "/v1/traces", false) => tiny_http::Response::from_string(
            r#"{"error":"unknown API key - check your credentials"}"#,
        )
        .with_status_code(401)
        .with_header(json),
        ("/v1/traces", true) => tiny_http::Response::from_string(""),
        _ => tiny_http::Response::from_string("not found").with_status_code(404),
    }
}
