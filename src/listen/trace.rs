//! One trace, merged from however many requests its spans came in, and what
//! can be said about its shape: its tree, and why it is not whole yet.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::otlp::ReceivedSpan;

/// How long a trace may wait for a missing parent before it is shown as it
/// is: a little longer than the 5 s a BatchSpanProcessor waits between exports.
pub const QUIET_INTERVAL_MS: u64 = 6_000;

/// Up to this many spans, a trace finds a span id by scanning its spans.
const SCAN_LIMIT: usize = 32;

/// A span id as a map key; span ids are 8 bytes, others are not indexed.
fn span_key(span_id: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(<[u8; 8]>::try_from(span_id).ok()?))
}

#[derive(Clone)]
pub struct Trace {
    pub id: String,
    /// In arrival order; added through `add`, which keeps the stats below.
    spans: Vec<ReceivedSpan>,
    pub first_seen: Instant,
    /// Its place among all traces seen (ties of `first_seen` broken by it).
    pub order: u64,
    pub last_seen: Instant,
    /// The x-honeycomb-team fingerprint its exporter sent, if any.
    pub team: Option<String>,
    /// Past `SCAN_LIMIT` spans, where each span id first is in `spans`, to
    /// know a span sent twice.
    index: HashMap<u64, usize>,
    /// Kept as spans come, so sorting thousands of traces is cheap.
    start: u64,
    end: u64,
    errors: usize,
    /// What its spans take in memory, about: see [`span_bytes`].
    bytes: usize,
}

/// What a trace costs before its spans: its id, its entry in the store's
/// map and order, and its own fields.
const TRACE_BYTES: usize = 256;

/// What one span costs in memory, about: its struct, and twice its encoded
/// size for the strings, vectors and attribute values it decodes into. On
/// the high side for large attributes, so the budget errs toward less;
/// tests/integration/listen_bounded.rs checks the resident size that results.
fn span_bytes(span: &ReceivedSpan) -> usize {
    use prost::Message;
    std::mem::size_of::<ReceivedSpan>() + 2 * span.span.encoded_len()
}

/// Why a trace is not (yet) whole.
#[derive(Debug, Clone, PartialEq)]
pub enum Gap {
    /// A span's parent has not come, and may still: the span that ends last
    /// (the root) is exported last, up to 5 s later by a BatchSpanProcessor.
    RootPending { span: String, service: String },
    /// A server span whose parent is in another process that does not
    /// export here, such as the frontend's fetch carrying `traceparent`.
    RemoteParent { span: String, service: String },
    /// A span's parent never came: it was never ended, or its process
    /// exited before exporting it.
    ParentNeverCame {
        span: String,
        service: String,
        parent: String,
    },
}

/// A child that starts before its parent: the two processes' clocks differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockSkew {
    pub child: String,
    pub child_service: String,
    pub parent: String,
    pub parent_service: String,
    pub early_ms: f64,
}

/// A trace's spans in tree order, and what is missing.
pub struct Shape<'a> {
    /// Depth-first, children by start time; each with its depth.
    pub rows: Vec<(usize, &'a ReceivedSpan)>,
    pub gaps: Vec<Gap>,
    pub skews: Vec<ClockSkew>,
}

impl Shape<'_> {
    /// Nothing to wait for: every parent is here, or lives in another service.
    pub fn is_settled(&self) -> bool {
        self.gaps
            .iter()
            .all(|g| matches!(g, Gap::RemoteParent { .. }))
    }
}

impl Trace {
    pub fn new(id: String, order: u64, now: Instant) -> Self {
        Trace {
            id,
            spans: Vec::new(),
            first_seen: now,
            order,
            last_seen: now,
            team: None,
            index: HashMap::new(),
            start: u64::MAX,
            end: 0,
            errors: 0,
            bytes: TRACE_BYTES,
        }
    }

    /// Adds a span, unless it is one already here: an exporter whose request
    /// timed out, or was answered 408 or 503, sends the same batch again.
    /// A different span under the same id (a broken id generator) is kept.
    pub fn add(&mut self, span: ReceivedSpan) -> bool {
        let first = self.find(&span.span.span_id);
        if first.is_some_and(|at| self.spans[at].is_same_span(&span)) {
            return false;
        }
        self.start = self.start.min(span.span.start_time_unix_nano);
        self.end = self.end.max(span.span.end_time_unix_nano);
        self.errors += usize::from(span.status() == "error");
        self.bytes += span_bytes(&span);
        self.spans.push(span);
        self.index_spans();
        true
    }

    /// Where the first span with this id is. Most traces are a handful of
    /// spans, where a scan costs less than a map per trace; larger traces
    /// keep a map.
    fn find(&self, span_id: &[u8]) -> Option<usize> {
        if self.spans.len() <= SCAN_LIMIT {
            return self.spans.iter().position(|s| s.span.span_id == span_id);
        }
        self.index.get(&span_key(span_id)?).copied()
    }

    /// Keeps the map once the trace is past a scan: all spans when it gets
    /// there, then each new one. The first span with an id keeps its place.
    fn index_spans(&mut self) {
        let len = self.spans.len();
        let from = match len {
            n if n <= SCAN_LIMIT => return,
            n if n == SCAN_LIMIT + 1 => 0,
            n => n - 1,
        };
        for (at, span) in self.spans.iter().enumerate().skip(from) {
            if let Some(id) = span_key(&span.span.span_id) {
                self.index.entry(id).or_insert(at);
            }
        }
    }

    /// What the trace takes in memory, about.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn spans(&self) -> &[ReceivedSpan] {
        &self.spans
    }

    pub fn start_unix_nano(&self) -> u64 {
        if self.spans.is_empty() { 0 } else { self.start }
    }

    pub fn end_unix_nano(&self) -> u64 {
        self.end
    }

    pub fn duration_ms(&self) -> f64 {
        self.end_unix_nano().saturating_sub(self.start_unix_nano()) as f64 / 1e6
    }

    pub fn errors(&self) -> usize {
        self.errors
    }

    /// The first span of the tree: the root if it came, else the earliest
    /// span whose parent is missing.
    pub fn top(&self) -> Option<&ReceivedSpan> {
        let ids: HashSet<&[u8]> = self.spans.iter().map(|s| &s.span.span_id[..]).collect();
        self.spans
            .iter()
            .filter(|s| s.is_root() || !ids.contains(&s.span.parent_span_id[..]))
            .min_by_key(|s| (!s.is_root(), s.span.start_time_unix_nano))
    }

    /// The tree, and its gaps. `waiting` says whether a missing parent may
    /// still come (the quiet interval has not passed and more may arrive).
    pub fn shape(&self, waiting: bool) -> Shape<'_> {
        let by_id: HashMap<&[u8], &ReceivedSpan> = self
            .spans
            .iter()
            .map(|s| (&s.span.span_id[..], s))
            .collect();
        let mut children: HashMap<&[u8], Vec<&ReceivedSpan>> = HashMap::new();
        let mut tops: Vec<&ReceivedSpan> = Vec::new();
        let mut gaps = Vec::new();
        let mut skews = Vec::new();
        for span in &self.spans {
            if span.is_root() {
                tops.push(span);
                continue;
            }
            match by_id.get(&span.span.parent_span_id[..]) {
                Some(parent) => {
                    children
                        .entry(&span.span.parent_span_id[..])
                        .or_default()
                        .push(span);
                    if let Some(skew) = skew(parent, span) {
                        skews.push(skew);
                    }
                }
                None => {
                    tops.push(span);
                    gaps.push(gap(span, waiting));
                }
            }
        }
        tops.sort_by_key(|s| (!s.is_root(), s.span.start_time_unix_nano));
        let mut rows = Vec::with_capacity(self.spans.len());
        let mut stack: Vec<(usize, &ReceivedSpan)> =
            tops.into_iter().rev().map(|s| (0, s)).collect();
        // Spans reached once each: a cycle of parent ids cannot loop forever.
        let mut placed: HashSet<*const ReceivedSpan> = HashSet::new();
        while let Some((depth, span)) = stack.pop() {
            if !placed.insert(span) {
                continue;
            }
            rows.push((depth, span));
            if let Some(kids) = children.get_mut(&span.span.span_id[..]) {
                kids.sort_by_key(|s| std::cmp::Reverse(s.span.start_time_unix_nano));
                stack.extend(kids.iter().map(|k| (depth + 1, *k)));
            }
        }
        // Spans in a cycle of parents hang from nothing; show them anyway.
        for span in &self.spans {
            if !placed.contains(&(span as *const _)) {
                rows.push((0, span));
            }
        }
        Shape { rows, gaps, skews }
    }
}

fn gap(span: &ReceivedSpan, waiting: bool) -> Gap {
    let name = span.span.name.clone();
    let service = span.service.to_string();
    // SERVER and CONSUMER spans are entered from another process.
    if matches!(span.span.kind, 2 | 5) {
        Gap::RemoteParent {
            span: name,
            service,
        }
    } else if waiting {
        Gap::RootPending {
            span: name,
            service,
        }
    } else {
        Gap::ParentNeverCame {
            span: name,
            service,
            parent: span.parent_span_id(),
        }
    }
}

fn skew(parent: &ReceivedSpan, child: &ReceivedSpan) -> Option<ClockSkew> {
    let (p, c) = (
        parent.span.start_time_unix_nano,
        child.span.start_time_unix_nano,
    );
    (c < p).then(|| ClockSkew {
        child: child.span.name.clone(),
        child_service: child.service.to_string(),
        parent: parent.span.name.clone(),
        parent_service: parent.service.to_string(),
        early_ms: (p - c) as f64 / 1e6,
    })
}

impl Gap {
    /// One line for people: what is missing and the likely reason.
    pub fn explain(&self) -> String {
        match self {
            Gap::RootPending { span, service } => format!(
                "{service} {span:?}: its parent has not arrived yet; a BatchSpanProcessor exports every 5 s, and the span that ends last (the root) comes last"
            ),
            Gap::RemoteParent { span, service } => format!(
                "{service} {span:?}: its parent is remote, in a service that does not export here (such as the frontend, whose fetch sent traceparent)"
            ),
            Gap::ParentNeverCame {
                span,
                service,
                parent,
            } => format!(
                "{service} {span:?}: its parent {parent} never came: a span that is never ended is never exported (a `with` block, or span.end()), and a process that exits before its BatchSpanProcessor flushes loses its last spans"
            ),
        }
    }
}

impl ClockSkew {
    pub fn explain(&self) -> String {
        format!(
            "clock skew: {} {:?} starts {:.1} ms before its parent, {} {:?}; the two hosts' clocks differ",
            self.child_service, self.child, self.early_ms, self.parent_service, self.parent
        )
    }
}
