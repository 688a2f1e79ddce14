//! A query's result in the terminal: the summary table (a heatmap column
//! as a sparkline of its buckets), then each heatmap over time, its value
//! buckets from the highest down and time from left to right, each cell
//! shaded by its count.

use super::spec::QuerySpec;
use super::{Calculated, Outcome, TimeHeatmap};
use crate::style::{DIM, HEADING, paint};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const SHADES: [char; 5] = ['·', '░', '▒', '▓', '█'];
/// The widest text heatmap: time buckets are merged to fit.
const HEATMAP_WIDTH: usize = 60;

pub fn render(spec: &QuerySpec, outcome: &Outcome) -> String {
    let mut out = String::new();
    let window = outcome.window;
    out.push_str(&format!(
        "{} {} events from {} to {} ({} s buckets)\n\n",
        paint(HEADING, "Query:"),
        outcome.matched,
        clock(window.start),
        clock(window.end),
        window.granularity
    ));
    out.push_str(&table(spec, outcome));
    for heatmap in &outcome.heatmaps {
        out.push('\n');
        out.push_str(&time_heatmap(heatmap, outcome));
    }
    out
}

/// `HH:MM:SS` UTC of a Unix second (the day is in `--json`).
fn clock(seconds: i64) -> String {
    let day = seconds.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", day / 3600, day / 60 % 60, day % 60)
}

fn number(value: &Calculated) -> String {
    match value {
        Calculated::Count(n) => n.to_string(),
        Calculated::Number(None) => "-".into(),
        Calculated::Number(Some(n)) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
        Calculated::Number(Some(n)) => format!("{n:.3}"),
        Calculated::Heatmap(buckets) => sparkline(buckets.iter().map(|b| b.count)),
    }
}

fn sparkline(counts: impl Iterator<Item = u64>) -> String {
    let counts: Vec<u64> = counts.collect();
    let most = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| match c {
            0 => ' ',
            c => SPARK[((c * 7).div_ceil(most.max(1))) as usize],
        })
        .collect()
}

fn table(spec: &QuerySpec, outcome: &Outcome) -> String {
    let mut header: Vec<String> = spec.breakdowns.clone();
    header.extend(spec.calculations.iter().map(|c| c.key()));
    let rows: Vec<Vec<String>> = outcome
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row
                .group
                .iter()
                .map(|v| match v {
                    None => "(none)".to_string(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect();
            cells.extend(row.values.iter().map(number));
            cells
        })
        .collect();
    if rows.is_empty() {
        return format!("{}\n", paint(DIM, "No event matches."));
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |i: usize| i >= spec.breakdowns.len();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = widths[i].saturating_sub(cell.chars().count());
                if numeric(i) {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = format!("{}\n", paint(HEADING, line(&header)));
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

fn time_heatmap(heatmap: &TimeHeatmap, outcome: &Outcome) -> String {
    // Merge time buckets so the grid fits; trim empty time on both ends.
    let first = heatmap.counts.iter().position(|c| c.iter().any(|n| *n > 0));
    let last = heatmap
        .counts
        .iter()
        .rposition(|c| c.iter().any(|n| *n > 0));
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let times = &heatmap.counts[first..=last];
    let per_column = times.len().div_ceil(HEATMAP_WIDTH).max(1);
    let columns: Vec<Vec<u64>> = times
        .chunks(per_column)
        .map(|chunk| {
            (0..heatmap.buckets.len())
                .map(|b| chunk.iter().map(|c| c[b]).sum())
                .collect()
        })
        .collect();
    let most = columns.iter().flatten().copied().max().unwrap_or(1).max(1);
    let labels: Vec<String> = heatmap
        .buckets
        .iter()
        .map(|b| format!("{:.2}–{:.2}", b.min, b.max))
        .collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = format!("{}\n", paint(HEADING, &heatmap.key));
    for (b, label) in labels.iter().enumerate().rev() {
        let cells: String = columns
            .iter()
            .map(|column| match column[b] {
                0 => ' ',
                n => SHADES[(((n * 4).div_ceil(most)) as usize).min(4)],
            })
            .collect();
        let total: u64 = heatmap.counts.iter().map(|c| c[b]).sum();
        out.push_str(&format!(
            "{label:>label_width$} │{cells}│ {}\n",
            paint(DIM, total)
        ));
    }
    let step = outcome.window.granularity as i64 * per_column as i64;
    let start = outcome.window.start + first as i64 * outcome.window.granularity as i64;
    let end = start + step * columns.len() as i64;
    out.push_str(&format!(
        "{:>label_width$}  {} … {} ({} s a column)\n",
        "",
        clock(start),
        clock(end),
        step
    ));
    out
}
