//! The traces received so far, merged by trace id across requests, and
//! bounded: past `capacity` traces the oldest is dropped and counted.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::trace::Trace;
use crate::otlp::ReceivedSpan;

/// How many traces are kept unless `--keep` says otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

pub struct Store {
    traces: HashMap<String, Trace>,
    /// Trace ids, oldest first: the order they are evicted in.
    order: VecDeque<String>,
    capacity: usize,
    /// Traces with spans not shown yet.
    pending: HashSet<String>,
    pub evicted: u64,
    pub requests: u64,
    pub spans: u64,
    /// Spans received again (exporter retries), kept once.
    pub repeated: u64,
    pub traces_seen: u64,
    pub services: BTreeSet<Arc<str>>,
    /// Bumped on every change, so a page can ask "anything new?".
    pub version: u64,
}

impl Store {
    pub fn new(capacity: usize) -> Self {
        Store {
            traces: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            pending: HashSet::new(),
            evicted: 0,
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
            let trace = match self.traces.get_mut(&id) {
                Some(trace) => trace,
                None => {
                    self.traces_seen += 1;
                    self.order.push_back(id.clone());
                    self.evict_beyond_capacity();
                    self.traces
                        .entry(id.clone())
                        .or_insert_with(|| Trace::new(id, self.traces_seen, now))
                }
            };
            trace.last_seen = now;
            if team.is_some() {
                trace.team.clone_from(&team);
            }
            let unshown_before = trace.shown < trace.spans().len();
            if !trace.add(span) {
                self.repeated += 1;
            } else if !unshown_before {
                self.pending.insert(trace.id.clone());
            }
        }
    }

    fn evict_beyond_capacity(&mut self) {
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.traces.remove(&old);
                self.pending.remove(&old);
                self.evicted += 1;
            }
        }
    }

    /// Traces with spans not shown yet that are ready to show: settled, or
    /// quiet for `quiet`, or all of them when nothing more will come.
    /// In the order the traces were first seen.
    pub fn due(&self, now: Instant, quiet: Duration, at_end: bool) -> Vec<String> {
        let mut due: Vec<&Trace> = self
            .pending
            .iter()
            .filter_map(|id| self.traces.get(id))
            .filter(|t| {
                at_end || now.duration_since(t.last_seen) >= quiet || t.shape(true).is_settled()
            })
            .collect();
        due.sort_by_key(|t| (t.first_seen, t.order));
        due.into_iter().map(|t| t.id.clone()).collect()
    }

    /// Records that every span of trace `id` so far has been shown.
    pub fn mark_shown(&mut self, id: &str) {
        if let Some(trace) = self.traces.get_mut(id) {
            trace.shown = trace.spans().len();
        }
        self.pending.remove(id);
    }

    pub fn get(&self, id: &str) -> Option<&Trace> {
        self.traces.get(id)
    }

    /// Traces kept, oldest first.
    pub fn traces(&self) -> impl Iterator<Item = &Trace> {
        self.order.iter().filter_map(|id| self.traces.get(id))
    }

    pub fn kept(&self) -> usize {
        self.traces.len()
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

    fn add(store: &mut Store, service: &str, spans: Vec<Span>, now: Instant) {
        store.add(received_spans(request_for(service, spans)), None, now);
    }

    #[test]
    fn a_trace_split_over_three_requests_out_of_order_is_one_tree() {
        let mut store = Store::new(10);
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
        let mut store = Store::new(10);
        let now = Instant::now();
        add(&mut store, "api", vec![span(7, 1, None, 2, 100)], now);
        store.mark_shown(&"07".repeat(16));
        add(&mut store, "api", vec![span(7, 1, None, 2, 100)], now);
        assert_eq!(store.repeated, 1);
        assert!(store.due(now, Duration::ZERO, true).is_empty());
        let mut other = span(7, 1, None, 2, 100);
        other.name = "another".into();
        add(&mut store, "api", vec![other], now);
        assert_eq!(store.repeated, 1);
        assert_eq!(store.get(&"07".repeat(16)).unwrap().spans().len(), 2);
        assert_eq!(store.due(now, Duration::ZERO, true).len(), 1);
    }

    /// Past the scan limit a trace finds ids through its map: a large trace
    /// sent again, in two halves, is still kept once.
    #[test]
    fn a_large_trace_sent_again_is_kept_once() {
        let mut store = Store::new(10);
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
        let mut store = Store::new(10);
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
        assert!(store.due(now, quiet, false).is_empty());
        assert_eq!(store.due(now + quiet, quiet, false).len(), 1);
    }

    #[test]
    fn a_server_span_with_an_absent_parent_has_a_remote_parent_and_is_due_at_once() {
        let mut store = Store::new(10);
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
        assert_eq!(store.due(now, Duration::from_secs(6), false).len(), 1);
    }

    #[test]
    fn a_child_starting_before_its_parent_is_clock_skew() {
        let mut store = Store::new(10);
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
        let mut store = Store::new(2);
        let now = Instant::now();
        for t in 1..=5 {
            add(&mut store, "api", vec![span(t, 1, None, 2, 1)], now);
        }
        assert_eq!(store.kept(), 2);
        assert_eq!(store.evicted, 3);
        assert_eq!(store.traces_seen, 5);
        let kept: Vec<&str> = store.traces().map(|t| t.id.as_str()).collect();
        assert_eq!(kept, ["04".repeat(16), "05".repeat(16)]);
    }

    #[test]
    fn a_cycle_of_parents_neither_loops_nor_loses_spans() {
        let mut store = Store::new(2);
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
