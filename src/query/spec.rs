//! Honeycomb's Query Specification (docs.honeycomb.io, "Query
//! Specification"), read strictly: a query written here runs in Honeycomb
//! unchanged, and one from Honeycomb's docs runs here. A field or operator
//! tracelab does not compute is refused by name, never ignored.

use serde::Serialize;
use serde_json::{Map, Value};

/// A calculation's operator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Op {
    Count,
    Concurrency,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// `P001` … `P999`: the percentile, as a percentage (0.1 … 99.9).
    Percentile(f64),
    Heatmap,
    /// `RATE_AVG`, `RATE_SUM`, `RATE_MAX`: per time bucket, the change of
    /// that calculation since the bucket before (a time series only).
    Rate(RateOf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RateOf {
    Avg,
    Sum,
    Max,
}

/// Honeycomb's percentile operators and the percentage each names.
const PERCENTILES: [(&str, f64); 12] = [
    ("P001", 0.1),
    ("P01", 1.0),
    ("P05", 5.0),
    ("P10", 10.0),
    ("P20", 20.0),
    ("P25", 25.0),
    ("P50", 50.0),
    ("P75", 75.0),
    ("P90", 90.0),
    ("P95", 95.0),
    ("P99", 99.0),
    ("P999", 99.9),
];

impl Op {
    fn parse(name: &str) -> Result<Op, String> {
        let op = match name {
            "COUNT" => Op::Count,
            "CONCURRENCY" => Op::Concurrency,
            "COUNT_DISTINCT" => Op::CountDistinct,
            "SUM" => Op::Sum,
            "AVG" => Op::Avg,
            "MIN" => Op::Min,
            "MAX" => Op::Max,
            "HEATMAP" => Op::Heatmap,
            "RATE_AVG" => Op::Rate(RateOf::Avg),
            "RATE_SUM" => Op::Rate(RateOf::Sum),
            "RATE_MAX" => Op::Rate(RateOf::Max),
            other => match PERCENTILES.iter().find(|(n, _)| *n == other) {
                Some((_, p)) => Op::Percentile(*p),
                None => {
                    return Err(format!(
                        "{other:?} is not one of Honeycomb's calculation operators (COUNT, CONCURRENCY, COUNT_DISTINCT, SUM, AVG, MIN, MAX, P001…P999, HEATMAP)"
                    ));
                }
            },
        };
        Ok(op)
    }

    /// As the specification spells it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Count => "COUNT",
            Op::Concurrency => "CONCURRENCY",
            Op::CountDistinct => "COUNT_DISTINCT",
            Op::Sum => "SUM",
            Op::Avg => "AVG",
            Op::Min => "MIN",
            Op::Max => "MAX",
            Op::Heatmap => "HEATMAP",
            Op::Rate(RateOf::Avg) => "RATE_AVG",
            Op::Rate(RateOf::Sum) => "RATE_SUM",
            Op::Rate(RateOf::Max) => "RATE_MAX",
            Op::Percentile(p) => PERCENTILES
                .iter()
                .find(|(_, q)| *q == p)
                .map_or("P50", |(n, _)| n),
        }
    }

    fn takes_column(self) -> bool {
        !matches!(self, Op::Count | Op::Concurrency)
    }

    /// A heatmap or a rate: no one value for the whole group, so nothing to
    /// order by or compare in a having.
    pub fn has_one_value(self) -> bool {
        !matches!(self, Op::Heatmap | Op::Rate(_))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calculation {
    pub op: Op,
    pub column: Option<String>,
}

impl Calculation {
    /// The key a result row holds it under, as Honeycomb names it:
    /// `COUNT`, `P90(duration_ms)`.
    pub fn key(&self) -> String {
        match &self.column {
            Some(column) => format!("{}({column})", self.op.name()),
            None => self.op.name().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FilterOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    StartsWith,
    DoesNotStartWith,
    Contains,
    DoesNotContain,
    Exists,
    DoesNotExist,
    In,
    NotIn,
}

const FILTER_OPS: [(&str, FilterOp); 14] = [
    ("=", FilterOp::Eq),
    ("!=", FilterOp::Ne),
    (">", FilterOp::Gt),
    (">=", FilterOp::Ge),
    ("<", FilterOp::Lt),
    ("<=", FilterOp::Le),
    ("starts-with", FilterOp::StartsWith),
    ("does-not-start-with", FilterOp::DoesNotStartWith),
    ("contains", FilterOp::Contains),
    ("does-not-contain", FilterOp::DoesNotContain),
    ("exists", FilterOp::Exists),
    ("does-not-exist", FilterOp::DoesNotExist),
    ("in", FilterOp::In),
    ("not-in", FilterOp::NotIn),
];

impl FilterOp {
    pub fn name(self) -> &'static str {
        FILTER_OPS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("=", |(n, _)| n)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    pub column: String,
    pub op: FilterOp,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Combination {
    And,
    Or,
}

/// One ordering term: a breakdown column, or a calculation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub op: Option<Op>,
    pub column: Option<String>,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Having {
    pub calculate_op: Op,
    pub column: Option<String>,
    pub op: FilterOp,
    pub value: f64,
}

/// A query, with Honeycomb's defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuerySpec {
    pub breakdowns: Vec<String>,
    pub calculations: Vec<Calculation>,
    pub filters: Vec<Filter>,
    pub filter_combination: Combination,
    pub orders: Vec<Order>,
    pub havings: Vec<Having>,
    pub limit: usize,
    pub time_range: Option<u64>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub granularity: Option<u64>,
    /// The JSON as given: what the Honeycomb link carries.
    #[serde(skip)]
    pub source: Value,
}

/// Honeycomb's default number of result rows, and its most.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;
/// Honeycomb's default time range: two hours.
pub const DEFAULT_TIME_RANGE: u64 = 7200;

/// Fields of Honeycomb's specification that tracelab does not compute.
const NOT_COMPUTED: [(&str, &str); 3] = [
    ("calculated_fields", "derived columns"),
    (
        "compare_time_offset_seconds",
        "a comparison with an earlier time",
    ),
    ("formulas", "formulas over calculations"),
];

const FIELDS: [&str; 11] = [
    "breakdowns",
    "calculations",
    "filters",
    "filter_combination",
    "orders",
    "havings",
    "limit",
    "time_range",
    "start_time",
    "end_time",
    "granularity",
];

impl QuerySpec {
    /// Reads a specification; an error names the field and what to write.
    pub fn parse(text: &str) -> Result<QuerySpec, String> {
        let source: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(fields) = &source else {
            return Err("a query specification is a JSON object, e.g. {\"calculations\": [{\"op\": \"COUNT\"}]}".into());
        };
        for key in fields.keys() {
            if let Some((_, what)) = NOT_COMPUTED.iter().find(|(k, _)| k == key) {
                return Err(format!(
                    "{key} ({what}) is part of Honeycomb's specification, but tracelab does not compute it: remove it to run the query here"
                ));
            }
            if !FIELDS.contains(&key.as_str()) {
                return Err(format!(
                    "{key:?} is not a field of Honeycomb's Query Specification (fields: {})",
                    FIELDS.join(", ")
                ));
            }
        }
        let mut calculations = list(fields, "calculations", calculation)?;
        if calculations.is_empty() {
            // As Honeycomb: no calculation means COUNT.
            calculations.push(Calculation {
                op: Op::Count,
                column: None,
            });
        }
        let spec = QuerySpec {
            breakdowns: list(fields, "breakdowns", |v| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .ok_or_else(|| "each breakdown is a column name".to_string())
            })?,
            calculations,
            filters: list(fields, "filters", filter)?,
            filter_combination: match fields.get("filter_combination") {
                None | Some(Value::Null) => Combination::And,
                Some(Value::String(s)) if s == "AND" => Combination::And,
                Some(Value::String(s)) if s == "OR" => Combination::Or,
                Some(other) => {
                    return Err(format!(
                        "filter_combination is \"AND\" or \"OR\", not {other}"
                    ));
                }
            },
            orders: list(fields, "orders", order)?,
            havings: list(fields, "havings", having)?,
            limit: match fields.get("limit") {
                None | Some(Value::Null) => DEFAULT_LIMIT,
                Some(v) => match v.as_u64() {
                    Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => n as usize,
                    _ => {
                        return Err(format!(
                            "limit is a whole number from 1 to {MAX_LIMIT}, not {v}"
                        ));
                    }
                },
            },
            time_range: positive(fields, "time_range")?,
            start_time: whole(fields, "start_time")?,
            end_time: whole(fields, "end_time")?,
            granularity: positive(fields, "granularity")?,
            source: source.clone(),
        };
        spec.check_references()?;
        Ok(spec)
    }

    /// Orders and havings name what the query computes, as Honeycomb
    /// requires; a heatmap has no single value to order or compare.
    fn check_references(&self) -> Result<(), String> {
        if let (Some(start), Some(end), Some(_)) = (self.start_time, self.end_time, self.time_range)
        {
            return Err(format!(
                "start_time ({start}), end_time ({end}) and time_range: give two of the three"
            ));
        }
        if let (Some(start), Some(end)) = (self.start_time, self.end_time)
            && end <= start
        {
            return Err(format!(
                "end_time ({end}) is not after start_time ({start})"
            ));
        }
        for order in &self.orders {
            match order.op {
                Some(op) => {
                    let found = self.calculation(op, order.column.as_deref()).ok_or_else(|| {
                        format!(
                            "the order {} is not one of the calculations: add it to calculations, or order by one of them",
                            term(op, order.column.as_deref())
                        )
                    })?;
                    if !found.op.has_one_value() {
                        return Err(format!(
                            "{} is drawn over time: it has no single value to order by",
                            found.key()
                        ));
                    }
                }
                None => {
                    let column = order.column.as_deref().unwrap_or("");
                    if !self.breakdowns.iter().any(|b| b == column) {
                        return Err(format!(
                            "the order by column {column:?} is not one of the breakdowns: add it to breakdowns, or order by a calculation"
                        ));
                    }
                }
            }
        }
        for having in &self.havings {
            if !having.calculate_op.has_one_value() {
                return Err(format!(
                    "{} is drawn over time: it has no single value for a having clause",
                    having.calculate_op.name()
                ));
            }
            self.calculation(having.calculate_op, having.column.as_deref())
                .ok_or_else(|| {
                    format!(
                        "the having clause on {} is not one of the calculations: add it to calculations",
                        term(having.calculate_op, having.column.as_deref())
                    )
                })?;
        }
        Ok(())
    }

    pub fn calculation(&self, op: Op, column: Option<&str>) -> Option<&Calculation> {
        self.calculations
            .iter()
            .find(|c| c.op == op && c.column.as_deref() == column)
    }
}

fn term(op: Op, column: Option<&str>) -> String {
    match column {
        Some(column) => format!("{}({column})", op.name()),
        None => op.name().to_string(),
    }
}

fn list<T>(
    fields: &Map<String, Value>,
    key: &str,
    item: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| item(v).map_err(|e| format!("{key}[{i}]: {e}")))
            .collect(),
        Some(other) => Err(format!("{key} is a list, not {other}")),
    }
}

fn positive(fields: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!(
                "{key} is a whole number of seconds above 0, not {v}"
            )),
        },
    }
}

fn whole(fields: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key} is a Unix time in whole seconds, not {v}")),
    }
}

/// An object with only these keys.
fn object<'a>(value: &'a Value, keys: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let Value::Object(fields) = value else {
        return Err(format!("an object, not {value}"));
    };
    if let Some(extra) = fields.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!(
            "{extra:?} is not one of its fields ({})",
            keys.join(", ")
        ));
    }
    Ok(fields)
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(other) => Err(format!("{key} is a non-empty string, not {other}")),
    }
}

fn calculation(value: &Value) -> Result<Calculation, String> {
    let fields = object(value, &["op", "column", "name"])?;
    if fields.contains_key("name") {
        return Err(
            "a named calculation is Honeycomb's Metrics beta; tracelab does not compute it".into(),
        );
    }
    let op = Op::parse(text(fields, "op")?.ok_or("op is required")?)?;
    let column = text(fields, "column")?.map(String::from);
    match (op.takes_column(), &column) {
        (true, None) => Err(format!(
            "{} needs a column, e.g. {{\"op\": \"{}\", \"column\": \"duration_ms\"}}",
            op.name(),
            op.name()
        )),
        (false, Some(column)) => Err(format!("{} takes no column (given {column:?})", op.name())),
        _ => Ok(Calculation { op, column }),
    }
}

fn filter(value: &Value) -> Result<Filter, String> {
    let fields = object(value, &["column", "op", "value"])?;
    let column = text(fields, "column")?
        .ok_or("column is required")?
        .to_string();
    let name = text(fields, "op")?.ok_or("op is required")?;
    let op = FILTER_OPS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, op)| *op)
        .ok_or_else(|| {
            let names: Vec<&str> = FILTER_OPS.iter().map(|(n, _)| *n).collect();
            format!(
                "{name:?} is not one of Honeycomb's filter operators ({})",
                names.join(", ")
            )
        })?;
    let value = fields.get("value").filter(|v| !v.is_null()).cloned();
    match op {
        FilterOp::Exists | FilterOp::DoesNotExist if value.is_some() => {
            Err(format!("{name} takes no value"))
        }
        FilterOp::Exists | FilterOp::DoesNotExist => Ok(Filter { column, op, value }),
        FilterOp::In | FilterOp::NotIn => match &value {
            Some(Value::Array(items)) if items.iter().all(is_scalar) => {
                Ok(Filter { column, op, value })
            }
            _ => Err(format!(
                "{name} takes a list of values, e.g. \"value\": [\"a\", \"b\"]"
            )),
        },
        _ => match &value {
            Some(v) if is_scalar(v) => Ok(Filter { column, op, value }),
            _ => Err(format!(
                "{name} takes one value: a string, a number or true/false"
            )),
        },
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn order(value: &Value) -> Result<Order, String> {
    let fields = object(value, &["op", "column", "order"])?;
    let op = text(fields, "op")?.map(Op::parse).transpose()?;
    let column = text(fields, "column")?.map(String::from);
    let descending = match text(fields, "order")? {
        None | Some("ascending") => false,
        Some("descending") => true,
        Some(other) => {
            return Err(format!(
                "order is \"ascending\" or \"descending\", not {other:?}"
            ));
        }
    };
    if op.is_none() && column.is_none() {
        return Err("an order names an op (a calculation) or a column (a breakdown)".into());
    }
    Ok(Order {
        op,
        column,
        descending,
    })
}

fn having(value: &Value) -> Result<Having, String> {
    let fields = object(value, &["calculate_op", "column", "op", "value"])?;
    let calculate_op = Op::parse(text(fields, "calculate_op")?.ok_or("calculate_op is required")?)?;
    let column = text(fields, "column")?.map(String::from);
    let name = text(fields, "op")?.ok_or("op is required")?;
    let op = match name {
        "=" => FilterOp::Eq,
        "!=" => FilterOp::Ne,
        ">" => FilterOp::Gt,
        ">=" => FilterOp::Ge,
        "<" => FilterOp::Lt,
        "<=" => FilterOp::Le,
        other => {
            return Err(format!(
                "a having compares with =, !=, >, >=, < or <=, not {other:?}"
            ));
        }
    };
    let value = fields
        .get("value")
        .and_then(Value::as_f64)
        .ok_or("value is required: a number")?;
    Ok(Having {
        calculate_op,
        column,
        op,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labs_queries_read_with_honeycombs_defaults() {
        let spec = QuerySpec::parse(r#"{"breakdowns": ["trace.trace_id"]}"#).unwrap();
        assert_eq!(spec.calculations[0].key(), "COUNT");
        assert_eq!(spec.limit, DEFAULT_LIMIT);
        assert_eq!(spec.filter_combination, Combination::And);
        let p90 = QuerySpec::parse(
            r#"{"calculations": [{"op": "P90", "column": "duration_ms"}, {"op": "HEATMAP", "column": "duration_ms"}]}"#,
        )
        .unwrap();
        let keys: Vec<String> = p90.calculations.iter().map(Calculation::key).collect();
        assert_eq!(keys, ["P90(duration_ms)", "HEATMAP(duration_ms)"]);
    }

    #[test]
    fn what_is_not_computed_is_refused_by_name() {
        let refused = |text: &str, said: &str| {
            let error = QuerySpec::parse(text).unwrap_err();
            assert!(error.contains(said), "{text}: {error}");
        };
        refused(
            r#"{"calculations": [{"op": "RATE_AVG", "column": "x"}], "orders": [{"op": "RATE_AVG", "column": "x"}]}"#,
            "RATE_AVG(x) is drawn over time",
        );
        refused(r#"{"calculated_fields": []}"#, "calculated_fields");
        refused(
            r#"{"calculations": [{"op": "P42", "column": "x"}]}"#,
            "\"P42\"",
        );
        refused(
            r#"{"filters": [{"column": "x", "op": "ends-with", "value": "a"}]}"#,
            "\"ends-with\"",
        );
        refused(r#"{"breakdown": ["name"]}"#, "\"breakdown\" is not a field");
        refused(r#"{"calculations": [{"op": "P90"}]}"#, "P90 needs a column");
        refused(
            r#"{"orders": [{"op": "COUNT"}], "calculations": [{"op": "MAX", "column": "duration_ms"}]}"#,
            "not one of the calculations",
        );
        refused(
            r#"{"orders": [{"column": "name"}]}"#,
            "not one of the breakdowns",
        );
        refused(
            r#"{"filters": [{"column": "x", "op": "in", "value": "a"}]}"#,
            "list of values",
        );
        refused(r#"{"limit": 0}"#, "limit");
        refused(r#"{"start_time": 10, "end_time": 5}"#, "not after");
    }
}
