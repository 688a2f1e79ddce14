//! The traces received so far, merged by trace id across requests, and
//! bounded three ways: past `--keep` traces, or past `--max-memory` bytes,
//! the oldest traces are dropped; past [`MAX_SPANS_PER_TRACE`] a trace
//! takes no more spans. Each is counted, never silent.
//!
//! Traces are shared (`Arc`): a reader takes a snapshot under the lock in
//! microseconds and builds its view outside it, and a writer copies a trace
//! only while a reader still holds it.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::trace::Trace;
use crate::otlp::ReceivedSpan;

/// How many traces are kept unless `--keep` says otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How many bytes of spans are kept unless `--max-memory` says otherwise.
pub const DEFAULT_MAX_MEMORY: usize = 256 * 1024 * 1024;

/// Spans one trace may hold. A Flask request makes tens; a trace past this
/// is a loop or an attack, and what it already holds says enough.
pub const MAX_SPANS_PER_TRACE: usize = 10_000;

/// The store's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub traces: usize,
    pub bytes: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            traces: DEFAULT_CAPACITY,
            bytes: DEFAULT_MAX_MEMORY,
        }
    }
}

struct Entry {
    trace: Arc<Trace>,
    /// How many of its spans have been shown.
    shown: usize,
    /// Whether it has all its parents, computed once per change.
    settled: Option<bool>,
}

pub struct Store {
    traces: HashMap<String, Entry>,
    /// Trace ids, oldest first: the order they are evicted in.
    order: VecDeque<String>,
    bounds: Bounds,
    /// Bytes the kept spans take, as [`Trace::bytes`] counts them.
    bytes: usize,
    /// Traces with spans not shown yet.
    pending: HashSet<String>,
    /// Traces dropped to keep the last `--keep`.
    pub evicted: u64,
    /// Traces dropped to stay under `--max-memory`.
    pub evicted_for_memory: u64,
    /// Spans not kept because their trace was full.
    pub truncated: u64,
    pub requests: u64,
    pub spans: u64,
    /// Spans received again (exporter retries), kept once.
    pub repeated: u64,
    pub traces_seen: u64,
    pub services: BTreeSet<Arc<str>>,
    /// Bumped on every change, so a page can ask "anything new?".
    pub version: u64,
}

/// What a reader needs of the store, taken under the lock in one pass of
/// pointer copies and read without it.
pub struct Snapshot {
    /// Oldest first.
    pub traces: Vec<Arc<Trace>>,
    pub version: u64,
    pub evicted: u64,
    pub evicted_for_memory: u64,
    pub truncated: u64,
    pub spans: u64,
    pub repeated: u64,
    pub services: Vec<String>,
}

/// A trace due to be shown, and how much of it was shown before.
pub struct Due {
    pub trace: Arc<Trace>,
    pub shown: usize,
}

impl Store {
    pub fn new(bounds: Bounds) -> Self {
        Store {
            traces: HashMap::new(),
            order: VecDeque::new(),
            bounds: Bounds {
                traces: bounds.traces.max(1),
                bytes: bounds.bytes,
            },
            bytes: 0,
            pending: HashSet::new(),
            evicted: 0,
            evicted_for_memory: 0,
            truncated: 0,
            requests: 0,
            spans: 0,
            repeated: 0,
            traces_seen: 0,
            services: BTreeSet::new(),
            version: 0,
        }
    }

    /// Adds one request's spans, merging each into its trace.
    pub fn add(&mut self, spans: Vec<ReceivedSpan>, team: Option<String>, now: Instant) {
        self.requests += 1;
        self.spans += spans.len() as u64;
        self.version += 1;
        for span in spans {
            if !self.services.contains(&span.service) {
                self.services.insert(Arc::clone(&span.service));
            }
            let id = span.trace_id();
            if !self.traces.contains_key(&id) {
                self.traces_seen += 1;
                self.order.push_back(id.clone());
                let trace = Trace::new(id.clone(), self.traces_seen, now);
                self.bytes += trace.bytes();
                let entry = Entry {
                    trace: Arc::new(trace),
                    shown: 0,
                    settled: None,
                };
                self.traces.insert(id.clone(), entry);
                self.evict_beyond_capacity();
            }
            let Some(entry) = self.traces.get_mut(&id) else {
                continue;
            };
            if entry.trace.spans().len() >= MAX_SPANS_PER_TRACE {
                self.truncated += 1;
                continue;
            }
            // Copies the trace only if a reader still holds it.
            let trace = Arc::make_mut(&mut entry.trace);
            trace.last_seen = now;
            if team.is_some() {
                trace.team.clone_from(&team);
            }
            let before = trace.bytes();
            if trace.add(span) {
                self.bytes += trace.bytes() - before;
                entry.settled = None;
                if entry.shown == trace.spans().len() - 1 {
                    self.pending.insert(id);
                }
            } else {
                self.repeated += 1;
            }
        }
        self.evict_beyond_memory();
    }

    fn evict_beyond_capacity(&mut self) {
        while self.order.len() > self.bounds.traces {
            self.evict_oldest();
            self.evicted += 1;
        }
    }

    /// The newest trace stays, whatever it holds: it is what the app is
    /// sending now, and it is bounded by `MAX_SPANS_PER_TRACE`.
    fn evict_beyond_memory(&mut self) {
        while self.bytes > self.bounds.bytes && self.order.len() > 1 {
            self.evict_oldest();
            self.evicted_for_memory += 1;
        }
    }

    fn evict_oldest(&mut self) {
        if let Some(old) = self.order.pop_front() {
            if let Some(entry) = self.traces.remove(&old) {
                self.bytes -= entry.trace.bytes();
            }
            self.pending.remove(&old);
        }
    }

    /// Traces with spans not shown yet that are ready to show: settled, or
    /// quiet for `quiet`, or all of them when nothing more will come.
    /// In the order the traces were first seen; each is marked shown.
    pub fn take_due(&mut self, now: Instant, quiet: Duration, at_end: bool) -> Vec<Due> {
        let mut due: Vec<(Instant, u64, String)> = Vec::new();
        for id in &self.pending {
            let Some(entry) = self.traces.get_mut(id) else {
                continue;
            };
            let trace = &entry.trace;
            let ready = at_end
                || now.duration_since(trace.last_seen) >= quiet
                || *entry
                    .settled
                    .get_or_insert_with(|| trace.shape(true).is_settled());
            if ready {
                due.push((trace.first_seen, trace.order, id.clone()));
            }
        }
        due.sort();
        due.into_iter()
            .filter_map(|(_, _, id)| {
                self.pending.remove(&id);
                let entry = self.traces.get_mut(&id)?;
                let shown = std::mem::replace(&mut entry.shown, entry.trace.spans().len());
                Some(Due {
                    trace: Arc::clone(&entry.trace),
                    shown,
                })
            })
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Trace>> {
        self.traces.get(id).map(|e| Arc::clone(&e.trace))
    }

    /// Everything a page shows, without holding the lock to build it.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            traces: self
                .order
                .iter()
                .filter_map(|id| self.traces.get(id))
                .map(|e| Arc::clone(&e.trace))
                .collect(),
            version: self.version,
            evicted: self.evicted,
            evicted_for_memory: self.evicted_for_memory,
            truncated: self.truncated,
            spans: self.spans,
            repeated: self.repeated,
            services: self.services.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn kept(&self) -> usize {
        self.traces.len()
    }

    /// Bytes the kept spans take, as counted against `--max-memory`.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{received_spans, request_for};
    use opentelemetry_proto::tonic::trace::v1::Span;

    fn span(trace: u8, id: u8, parent: Option<u8>, kind: i32, start: u64) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: format!("span-{id}"),
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 1_000_000,
            ..Default::default()
        }
    }

    fn bounds(traces: usize) -> Bounds {
        Bounds {
            traces,
            bytes: usize::MAX,
        }
    }

    fn add(store: &mut Store, service: &str, spans: Vec<Span>, now: Instant) {
        store.add(received_spans(request_for(service, spans)), None, now);
    }

    #[test]
    fn a_trace_split_over_three_requests_out_of_order_is_one_tree() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        add(&mut store, "api", vec![span(7, 3, Some(2), 1, 300)], now);
        add(&mut store, "api", vec![span(7, 1, None, 2, 100)], now);
        add(&mut store, "api", vec![span(7, 2, Some(1), 1, 200)], now);
        assert_eq!(store.kept(), 1);
        let trace = store.get(&"07".repeat(16)).unwrap();
        let shape = trace.shape(true);
        let rows: Vec<(usize, &str)> = shape
            .rows
            .iter()
            .map(|(d, s)| (*d, s.span.name.as_str()))
            .collect();
        assert_eq!(rows, [(0, "span-1"), (1, "span-2"), (2, "span-3")]);
        assert!(shape.gaps.is_empty() && shape.skews.is_empty());
    }

    #[test]
    fn a_span_sent_again_is_kept_once_and_a_different_span_under_its_id_is_kept() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        add(&mut store, "api", vec![span(7, 1, None, 2, 100)], now);
        assert_eq!(store.take_due(now, Duration::ZERO, true).len(), 1);
        add(&mut store, "api", vec![span(7, 1, None, 2, 100)], now);
        assert_eq!(store.repeated, 1);
        assert!(store.take_due(now, Duration::ZERO, true).is_empty());
        let mut other = span(7, 1, None, 2, 100);
        other.name = "another".into();
        add(&mut store, "api", vec![other], now);
        assert_eq!(store.repeated, 1);
        assert_eq!(store.get(&"07".repeat(16)).unwrap().spans().len(), 2);
        assert_eq!(store.take_due(now, Duration::ZERO, true).len(), 1);
    }

    /// Past the scan limit a trace finds ids through its map: a large trace
    /// sent again, in two halves, is still kept once.
    #[test]
    fn a_large_trace_sent_again_is_kept_once() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        let spans = |ids: std::ops::RangeInclusive<u8>| {
            ids.map(|id| span(9, id, Some(1), 1, 100 + u64::from(id)))
                .collect()
        };
        add(&mut store, "api", spans(1..=200), now);
        add(&mut store, "api", spans(150..=200), now);
        add(&mut store, "api", spans(1..=149), now);
        assert_eq!(store.repeated, 200);
        assert_eq!(store.get(&"09".repeat(16)).unwrap().spans().len(), 200);
    }

    #[test]
    fn a_missing_root_is_pending_while_waiting_and_never_came_after() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        add(&mut store, "api", vec![span(1, 2, Some(1), 1, 200)], now);
        let trace = store.get(&"01".repeat(16)).unwrap();
        assert!(matches!(
            trace.shape(true).gaps[..],
            [crate::listen::trace::Gap::RootPending { .. }]
        ));
        assert!(matches!(
            trace.shape(false).gaps[..],
            [crate::listen::trace::Gap::ParentNeverCame { .. }]
        ));
        // Not due until the quiet interval has passed.
        let quiet = Duration::from_secs(6);
        assert!(store.take_due(now, quiet, false).is_empty());
        assert_eq!(store.take_due(now + quiet, quiet, false).len(), 1);
    }

    #[test]
    fn a_server_span_with_an_absent_parent_has_a_remote_parent_and_is_due_at_once() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        add(
            &mut store,
            "backend-flask",
            vec![span(1, 2, Some(9), 2, 200)],
            now,
        );
        let trace = store.get(&"01".repeat(16)).unwrap();
        assert!(matches!(
            trace.shape(true).gaps[..],
            [crate::listen::trace::Gap::RemoteParent { .. }]
        ));
        assert_eq!(store.take_due(now, Duration::from_secs(6), false).len(), 1);
    }

    #[test]
    fn a_child_starting_before_its_parent_is_clock_skew() {
        let mut store = Store::new(bounds(10));
        let now = Instant::now();
        add(
            &mut store,
            "frontend",
            vec![span(1, 1, None, 3, 5_000_000)],
            now,
        );
        add(
            &mut store,
            "backend",
            vec![span(1, 2, Some(1), 2, 2_000_000)],
            now,
        );
        let trace = store.get(&"01".repeat(16)).unwrap();
        let shape = trace.shape(true);
        assert!(shape.gaps.is_empty());
        assert_eq!(shape.skews.len(), 1);
        assert_eq!(shape.skews[0].early_ms, 3.0);
        assert!(
            shape.skews[0]
                .explain()
                .contains("backend \"span-2\" starts 3.0 ms before")
        );
    }

    #[test]
    fn past_capacity_the_oldest_traces_are_evicted_and_counted() {
        let mut store = Store::new(bounds(2));
        let now = Instant::now();
        for t in 1..=5 {
            add(&mut store, "api", vec![span(t, 1, None, 2, 1)], now);
        }
        assert_eq!(store.kept(), 2);
        assert_eq!(store.evicted, 3);
        assert_eq!(store.traces_seen, 5);
        let snapshot = store.snapshot();
        let kept: Vec<&str> = snapshot.traces.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(kept, ["04".repeat(16), "05".repeat(16)]);
    }

    #[test]
    fn a_cycle_of_parents_neither_loops_nor_loses_spans() {
        let mut store = Store::new(bounds(2));
        add(
            &mut store,
            "api",
            vec![span(1, 1, Some(2), 1, 1), span(1, 2, Some(1), 1, 2)],
            Instant::now(),
        );
        let trace = store.get(&"01".repeat(16)).unwrap();
        assert_eq!(trace.shape(false).rows.len(), 2);
    }
}
