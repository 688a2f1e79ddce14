//! Honeycomb's queries, offline: a Query Specification run over the spans
//! tracelab holds, each span an event with Honeycomb's columns. The numbers
//! are exact over the events:
//!
//! - `COUNT` counts events; `COUNT_DISTINCT` counts distinct values exactly.
//! - `P001` … `P999` are nearest-rank percentiles: the smallest value with
//!   at least p% of the values at or below it (Honeycomb's docs do not say
//!   how they interpolate; this definition never invents a value).
//! - `HEATMAP` splits the values' range over all matching events into
//!   equal buckets (`HEATMAP_BUCKETS`, one when every value is the same);
//!   the buckets partition the range and their counts add up to the events
//!   that have the column.
//! - `CONCURRENCY` is the most spans in progress at one instant, a span
//!   being in progress from its start to its end (at least 1 ns).
//! - `RATE_AVG`, `RATE_SUM`, `RATE_MAX` are time series, as Honeycomb
//!   defines them: in each time bucket, the AVG (SUM, MAX) minus that of
//!   the group's bucket before it with a value; a result row holds none.
//! - Time follows each span's start. Without `start_time` and `end_time`,
//!   the range ends with the newest span held (the moment the spans were
//!   sent), not with the clock: saved spans stay queryable.
//!
//! Filters compare a number with a number and text with text (a filter value
//! is read as the column's type when it can be); a negated filter (`!=`,
//! `does-not-contain`, `not-in`, ...) matches every event its positive form
//! does not, events without the column included.

pub mod columns;
pub mod spec;
pub mod text;

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::otlp::ReceivedSpan;
use spec::{Combination, FilterOp, Op, QuerySpec, RateOf};

/// A heatmap's buckets, at most.
pub const HEATMAP_BUCKETS: usize = 20;

/// The time the query covered, in Unix seconds (end excluded), and the
/// width of one time-series bucket.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub granularity: u64,
}

/// One bucket of a heatmap: values from `min` up to `max` (the last bucket
/// includes its `max`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub min: f64,
    pub max: f64,
    pub count: u64,
}

/// A calculation's value in one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Calculated {
    Count(u64),
    Number(Option<f64>),
    Heatmap(Vec<Bucket>),
}

impl Calculated {
    /// What an order or a having compares.
    pub fn number(&self) -> Option<f64> {
        match self {
            Calculated::Count(n) => Some(*n as f64),
            Calculated::Number(n) => *n,
            Calculated::Heatmap(_) => None,
        }
    }
}

/// One result row: a group's breakdown values and its calculations.
#[derive(Debug, Clone)]
pub struct Row {
    pub group: Vec<Option<Value>>,
    pub values: Vec<Calculated>,
}

/// One time bucket of one group.
#[derive(Debug, Clone)]
pub struct Point {
    pub time: i64,
    pub group: usize,
    pub values: Vec<Calculated>,
}

/// A heatmap over time: for each time bucket, the count in each value
/// bucket (the same buckets as the calculation's).
#[derive(Debug, Clone, Serialize)]
pub struct TimeHeatmap {
    pub key: String,
    pub buckets: Vec<Bucket>,
    /// `counts[time][bucket]`.
    pub counts: Vec<Vec<u64>>,
    /// The traces with an event in each value bucket, the slowest first
    /// (at most `BAND_TRACES`): what a band of the heatmap leads to.
    pub traces: Vec<Vec<String>>,
}

/// Traces listed for one band of a heatmap.
pub const BAND_TRACES: usize = 20;

pub struct Outcome {
    pub window: Window,
    /// Events in the window that pass the filters.
    pub matched: usize,
    pub rows: Vec<Row>,
    pub series: Vec<Point>,
    pub heatmaps: Vec<TimeHeatmap>,
}

/// Runs `spec` over `spans`.
pub fn run(spec: &QuerySpec, spans: &[&ReceivedSpan]) -> Result<Outcome, String> {
    let window = window(spec, spans)?;
    let (from, to) = (
        window.start.saturating_mul(1_000_000_000),
        window.end.saturating_mul(1_000_000_000),
    );
    let events: Vec<&ReceivedSpan> = spans
        .iter()
        .copied()
        .filter(|span| {
            let at = columns::timestamp(span) as i64;
            at >= from && at < to && passes(spec, span)
        })
        .collect();
    let mut keys: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Option<Value>>, Vec<usize>)> = Vec::new();
    for (index, span) in events.iter().enumerate() {
        let group: Vec<Option<Value>> = spec
            .breakdowns
            .iter()
            .map(|column| columns::column(span, column))
            .collect();
        let key = serde_json::to_string(&group).unwrap_or_default();
        let slot = *keys.entry(key).or_insert_with(|| {
            groups.push((group, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(index);
    }
    let ranges: Vec<Option<(f64, f64)>> = spec
        .calculations
        .iter()
        .map(|c| match (c.op, &c.column) {
            (Op::Heatmap, Some(column)) => value_range(&events, column),
            _ => None,
        })
        .collect();
    let calculate = |members: &[usize]| -> Vec<Calculated> {
        let members: Vec<&ReceivedSpan> = members.iter().map(|i| events[*i]).collect();
        spec.calculations
            .iter()
            .zip(&ranges)
            .map(|(c, range)| calculate_one(c.op, c.column.as_deref(), &members, *range))
            .collect()
    };
    let mut rows: Vec<(usize, Row)> = groups
        .iter()
        .enumerate()
        .map(|(slot, (group, members))| {
            (
                slot,
                Row {
                    group: group.clone(),
                    values: calculate(members),
                },
            )
        })
        .filter(|(_, row)| keeps(spec, row))
        .collect();
    rows.sort_by(|(_, a), (_, b)| order(spec, a, b));
    rows.truncate(spec.limit);
    let series = series(spec, &window, &events, &groups, &rows, &calculate);
    let heatmaps = time_heatmaps(spec, &window, &events, &ranges);
    Ok(Outcome {
        window,
        matched: events.len(),
        rows: rows.into_iter().map(|(_, row)| row).collect(),
        series,
        heatmaps,
    })
}

/// The time range, as Honeycomb reads `time_range`, `start_time` and
/// `end_time`, with "now" the newest span's start.
fn window(spec: &QuerySpec, spans: &[&ReceivedSpan]) -> Result<Window, String> {
    let newest = spans
        .iter()
        .map(|s| columns::timestamp(s))
        .max()
        .map(|ns| (ns / 1_000_000_000) as i64 + 1)
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let range = spec.time_range.map(|r| r as i64);
    let (start, end) = match (spec.start_time, spec.end_time) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, range.map_or(newest.max(start + 1), |r| start + r)),
        (None, Some(end)) => (end - range.unwrap_or(spec::DEFAULT_TIME_RANGE as i64), end),
        (None, None) => (
            newest - range.unwrap_or(spec::DEFAULT_TIME_RANGE as i64),
            newest,
        ),
    };
    let seconds = (end - start).max(1) as u64;
    let granularity = match spec.granularity {
        None => seconds.div_ceil(100).max(1),
        Some(g) if seconds >= 10 && (g < seconds / 1000 || g > seconds / 10) => {
            return Err(format!(
                "granularity {g} s: Honeycomb takes from the range/1000 to the range/10 ({} to {} s for {seconds} s)",
                (seconds / 1000).max(1),
                seconds / 10
            ));
        }
        Some(g) => g,
    };
    Ok(Window {
        start,
        end,
        granularity,
    })
}

fn passes(spec: &QuerySpec, span: &ReceivedSpan) -> bool {
    let mut results = spec.filters.iter().map(|f| {
        let value = columns::column(span, &f.column);
        matches(f.op, value.as_ref(), f.value.as_ref())
    });
    match spec.filter_combination {
        Combination::And => results.all(|r| r),
        Combination::Or => spec.filters.is_empty() || results.any(|r| r),
    }
}

/// One filter on one event's value (None: the event lacks the column).
pub fn matches(op: FilterOp, value: Option<&Value>, given: Option<&Value>) -> bool {
    let positive = |op: FilterOp| -> bool {
        let Some(value) = value else {
            return false;
        };
        match op {
            FilterOp::Exists => true,
            FilterOp::Eq => given.is_some_and(|g| equal(value, g)),
            FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => {
                let Some(ordering) = given.and_then(|g| compare(value, g)) else {
                    return false;
                };
                match op {
                    FilterOp::Gt => ordering == Ordering::Greater,
                    FilterOp::Ge => ordering != Ordering::Less,
                    FilterOp::Lt => ordering == Ordering::Less,
                    _ => ordering != Ordering::Greater,
                }
            }
            FilterOp::StartsWith => given.is_some_and(|g| as_text(value).starts_with(&as_text(g))),
            FilterOp::Contains => given.is_some_and(|g| as_text(value).contains(&as_text(g))),
            FilterOp::In => given
                .and_then(Value::as_array)
                .is_some_and(|items| items.iter().any(|g| equal(value, g))),
            _ => false,
        }
    };
    match op {
        FilterOp::Ne => !positive(FilterOp::Eq),
        FilterOp::DoesNotStartWith => !positive(FilterOp::StartsWith),
        FilterOp::DoesNotContain => !positive(FilterOp::Contains),
        FilterOp::DoesNotExist => !positive(FilterOp::Exists),
        FilterOp::NotIn => !positive(FilterOp::In),
        op => positive(op),
    }
}

/// Text as a filter reads it: a string as it is, anything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The filter value `given` read as the type of the column's `value`.
fn equal(value: &Value, given: &Value) -> bool {
    match (value, given) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(a), Value::String(b)) => b.trim().parse::<f64>().ok() == a.as_f64(),
        (Value::String(a), Value::Number(_) | Value::Bool(_)) => {
            a.as_str() == given.to_string().as_str()
        }
        (Value::Bool(a), Value::String(b)) => b.eq_ignore_ascii_case(&a.to_string()),
        (a, b) => a == b,
    }
}

/// Numbers by value, text by its bytes; nothing else compares.
fn compare(value: &Value, given: &Value) -> Option<Ordering> {
    match (value, given) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::Number(a), Value::String(b)) => a.as_f64()?.partial_cmp(&b.trim().parse().ok()?),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn numbers(events: &[&ReceivedSpan], column: &str) -> Vec<f64> {
    events
        .iter()
        .filter_map(|span| columns::column(span, column)?.as_f64())
        .collect()
}

fn value_range(events: &[&ReceivedSpan], column: &str) -> Option<(f64, f64)> {
    let values = numbers(events, column);
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// The bucket of `value` among `count` equal buckets over `range`.
fn bucket_of(value: f64, (min, max): (f64, f64), count: usize) -> usize {
    if max <= min {
        return 0;
    }
    let width = (max - min) / count as f64;
    (((value - min) / width).floor() as usize).min(count - 1)
}

fn bucket_count((min, max): (f64, f64)) -> usize {
    if max > min { HEATMAP_BUCKETS } else { 1 }
}

fn empty_buckets(range: (f64, f64)) -> Vec<Bucket> {
    let (min, max) = range;
    let count = bucket_count(range);
    let width = (max - min) / count as f64;
    (0..count)
        .map(|i| Bucket {
            min: min + i as f64 * width,
            max: if i + 1 == count {
                max
            } else {
                min + (i + 1) as f64 * width
            },
            count: 0,
        })
        .collect()
}

fn calculate_one(
    op: Op,
    column: Option<&str>,
    events: &[&ReceivedSpan],
    range: Option<(f64, f64)>,
) -> Calculated {
    let column = column.unwrap_or("");
    match op {
        Op::Count => Calculated::Count(events.len() as u64),
        Op::Concurrency => Calculated::Count(concurrency(events)),
        Op::CountDistinct => {
            let distinct: std::collections::HashSet<String> = events
                .iter()
                .filter_map(|span| columns::column(span, column))
                .map(|v| v.to_string())
                .collect();
            Calculated::Count(distinct.len() as u64)
        }
        Op::Heatmap => {
            let Some(range) = range else {
                return Calculated::Heatmap(Vec::new());
            };
            let mut buckets = empty_buckets(range);
            let count = buckets.len();
            for value in numbers(events, column) {
                buckets[bucket_of(value, range, count)].count += 1;
            }
            Calculated::Heatmap(buckets)
        }
        Op::Rate(_) => Calculated::Number(None),
        Op::Sum | Op::Avg | Op::Min | Op::Max | Op::Percentile(_) => {
            let values = numbers(events, column);
            Calculated::Number(statistic(op, values))
        }
    }
}

fn statistic(op: Op, mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match op {
        Op::Sum => values.iter().sum(),
        Op::Avg => values.iter().sum::<f64>() / values.len() as f64,
        Op::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Op::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Op::Percentile(p) => {
            values.sort_by(f64::total_cmp);
            // Nearest rank, in whole tenths of a percent so that no float
            // rounding moves the rank: ceil(p/100 * n).
            let tenths = (p * 10.0).round() as usize;
            let rank = (tenths * values.len()).div_ceil(1000).max(1);
            values[rank - 1]
        }
        _ => return None,
    })
}

/// The most spans in progress at once: starts and ends swept in time
/// order, an end before a start at the same instant.
fn concurrency(events: &[&ReceivedSpan]) -> u64 {
    let mut edges: Vec<(u64, i64)> = Vec::with_capacity(events.len() * 2);
    for span in events {
        let start = span.span.start_time_unix_nano;
        let end = span.span.end_time_unix_nano.max(start + 1);
        edges.push((start, 1));
        edges.push((end, -1));
    }
    edges.sort_unstable();
    let (mut now, mut most) = (0i64, 0i64);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as u64
}

/// The havings, all of them (Honeycomb combines them with AND).
fn keeps(spec: &QuerySpec, row: &Row) -> bool {
    spec.havings.iter().all(|having| {
        let index = spec
            .calculations
            .iter()
            .position(|c| c.op == having.calculate_op && c.column == having.column);
        let Some(value) = index.and_then(|i| row.values[i].number()) else {
            return false;
        };
        let given = Value::from(having.value);
        matches(having.op, Some(&Value::from(value)), Some(&given))
    })
}

/// Rows in the orders' terms; with none, by the first calculation that has
/// one value, most first. Ties: by the breakdown values' JSON text.
fn order(spec: &QuerySpec, a: &Row, b: &Row) -> Ordering {
    let terms: Vec<(Option<usize>, Option<usize>, bool)> = if spec.orders.is_empty() {
        spec.calculations
            .iter()
            .position(|c| c.op.has_one_value())
            .map(|i| vec![(Some(i), None, true)])
            .unwrap_or_default()
    } else {
        spec.orders
            .iter()
            .map(|o| match o.op {
                Some(op) => (
                    spec.calculations
                        .iter()
                        .position(|c| c.op == op && c.column == o.column),
                    None,
                    o.descending,
                ),
                None => (
                    None,
                    spec.breakdowns
                        .iter()
                        .position(|b| Some(b) == o.column.as_ref()),
                    o.descending,
                ),
            })
            .collect()
    };
    for (calculation, breakdown, descending) in terms {
        let ordering = match (calculation, breakdown) {
            (Some(i), _) => by_number(a.values[i].number(), b.values[i].number(), descending),
            (_, Some(i)) => by_value(a.group[i].as_ref(), b.group[i].as_ref(), descending),
            _ => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    let text = |row: &Row| serde_json::to_string(&row.group).unwrap_or_default();
    text(a).cmp(&text(b))
}

/// Values first, in the direction asked; a missing value last either way.
fn missing_last<T>(
    a: Option<T>,
    b: Option<T>,
    descending: bool,
    compare: impl Fn(T, T) -> Ordering,
) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if descending => compare(a, b).reverse(),
        (Some(a), Some(b)) => compare(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn by_number(a: Option<f64>, b: Option<f64>, descending: bool) -> Ordering {
    missing_last(a, b, descending, |a, b| a.total_cmp(&b))
}

/// Numbers by value, text by its bytes, anything else by its JSON.
fn by_value(a: Option<&Value>, b: Option<&Value>, descending: bool) -> Ordering {
    missing_last(a, b, descending, |a, b| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    })
}

/// The time series of the groups kept: each calculation but the heatmaps,
/// per time bucket that has events.
fn series(
    spec: &QuerySpec,
    window: &Window,
    events: &[&ReceivedSpan],
    groups: &[(Vec<Option<Value>>, Vec<usize>)],
    rows: &[(usize, Row)],
    calculate: &dyn Fn(&[usize]) -> Vec<Calculated>,
) -> Vec<Point> {
    let mut points = Vec::new();
    for (position, (slot, _)) in rows.iter().enumerate() {
        let mut by_time: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
        for &index in &groups[*slot].1 {
            let at = (columns::timestamp(events[index]) / 1_000_000_000) as i64;
            let bucket = window.start
                + (at - window.start) / window.granularity as i64 * window.granularity as i64;
            by_time.entry(bucket).or_default().push(index);
        }
        // Each rate's calculation in the bucket before, per calculation.
        let mut before: Vec<Option<f64>> = vec![None; spec.calculations.len()];
        for (time, members) in by_time {
            let mut values: Vec<Calculated> = calculate(&members)
                .into_iter()
                .map(|v| match v {
                    Calculated::Heatmap(_) => Calculated::Number(None),
                    other => other,
                })
                .collect();
            let chosen: Vec<&ReceivedSpan> = members.iter().map(|i| events[*i]).collect();
            for (i, c) in spec.calculations.iter().enumerate() {
                let Op::Rate(of) = c.op else { continue };
                let inner = match of {
                    RateOf::Avg => Op::Avg,
                    RateOf::Sum => Op::Sum,
                    RateOf::Max => Op::Max,
                };
                let now = calculate_one(inner, c.column.as_deref(), &chosen, None).number();
                values[i] = Calculated::Number(now.zip(before[i]).map(|(n, b)| n - b));
                if now.is_some() {
                    before[i] = now;
                }
            }
            points.push(Point {
                time,
                group: position,
                values,
            });
        }
    }
    points
}

fn time_heatmaps(
    spec: &QuerySpec,
    window: &Window,
    events: &[&ReceivedSpan],
    ranges: &[Option<(f64, f64)>],
) -> Vec<TimeHeatmap> {
    let times = ((window.end - window.start).max(1) as u64).div_ceil(window.granularity) as usize;
    spec.calculations
        .iter()
        .zip(ranges)
        .filter_map(|(c, range)| {
            let (Op::Heatmap, Some(column), Some(range)) = (c.op, &c.column, range) else {
                return None;
            };
            let buckets = empty_buckets(*range);
            let mut counts = vec![vec![0u64; buckets.len()]; times];
            let mut in_band: Vec<Vec<(f64, usize)>> = vec![Vec::new(); buckets.len()];
            for (index, span) in events.iter().enumerate() {
                let Some(value) = columns::column(span, column).and_then(|v| v.as_f64()) else {
                    continue;
                };
                let at = (columns::timestamp(span) / 1_000_000_000) as i64;
                let time = ((at - window.start) / window.granularity as i64) as usize;
                let band = bucket_of(value, *range, buckets.len());
                if let Some(row) = counts.get_mut(time) {
                    row[band] += 1;
                }
                in_band[band].push((value, index));
            }
            // Only the ids listed are formatted: a band may hold most events.
            let traces = in_band
                .into_iter()
                .map(|mut found| {
                    found.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    let mut ids: Vec<String> = Vec::new();
                    for (_, index) in found {
                        let id = events[index].trace_id();
                        if !ids.contains(&id) {
                            ids.push(id);
                            if ids.len() == BAND_TRACES {
                                break;
                            }
                        }
                    }
                    ids
                })
                .collect();
            Some(TimeHeatmap {
                key: c.key(),
                buckets,
                counts,
                traces,
            })
        })
        .collect()
}

impl Outcome {
    /// The results as data: one object per row, its breakdown columns and
    /// one key per calculation as Honeycomb names it.
    pub fn to_json(&self, spec: &QuerySpec) -> Value {
        let row_object = |group: &[Option<Value>], values: &[Calculated]| {
            let mut object = Map::new();
            for (column, value) in spec.breakdowns.iter().zip(group) {
                object.insert(column.clone(), value.clone().unwrap_or(Value::Null));
            }
            for (calculation, value) in spec.calculations.iter().zip(values) {
                object.insert(
                    calculation.key(),
                    serde_json::to_value(value).unwrap_or(Value::Null),
                );
            }
            Value::Object(object)
        };
        let results: Vec<Value> = self
            .rows
            .iter()
            .map(|row| row_object(&row.group, &row.values))
            .collect();
        let series: Vec<Value> = self
            .series
            .iter()
            .map(|point| {
                let mut object = row_object(&self.rows[point.group].group, &point.values);
                if let Value::Object(fields) = &mut object {
                    for c in spec.calculations.iter().filter(|c| c.op == Op::Heatmap) {
                        fields.remove(&c.key());
                    }
                    fields.insert("time".into(), Value::from(point.time));
                }
                object
            })
            .collect();
        serde_json::json!({
            "time_range": { "start_time": self.window.start, "end_time": self.window.end },
            "granularity": self.window.granularity,
            "matched": self.matched,
            "results": results,
            "series": series,
            "heatmaps": self.heatmaps,
        })
    }
}
