//! Interleaved rounds, medians, spread and paired ratios, and Markdown.
//!
//! A 2 vCPU VM shared with other work drifts in speed from one second to
//! the next. Comparing two means taken minutes apart would mostly measure
//! that drift, so every round runs each variant once, in a fresh random
//! order, and a ratio is taken round by round ("paired") before its median.

use std::time::{Duration, Instant};

/// xorshift64: a tiny random generator for shuffling, seeded from the clock.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let seed = now.map_or(0, |d| d.as_nanos() as u64) ^ std::process::id() as u64;
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Run `rounds` rounds of `variants` (after `warmup` rounds not counted),
/// each round in a new random order; `run(i)` runs variant `i` once and
/// returns how long it took. Returns one sample vector per variant, where
/// sample `r` of every variant comes from the same round `r`.
pub fn interleave(
    variants: usize,
    warmup: usize,
    rounds: usize,
    mut run: impl FnMut(usize) -> Duration,
) -> Vec<Vec<f64>> {
    let mut rng = Rng::new();
    let mut order: Vec<usize> = (0..variants).collect();
    let mut samples = vec![Vec::with_capacity(rounds); variants];
    for round in 0..warmup + rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let took = run(i);
            if round >= warmup {
                samples[i].push(took.as_secs_f64() * 1e6);
            }
        }
    }
    samples
}

/// Time one call of `f`.
pub fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// The `q` quantile (0 to 1) of `values`, by nearest rank.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The round-by-round ratios `a[r] / b[r]`.
pub fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(a, b)| a / b).collect()
}

/// The median of the round-by-round ratios `a[r] / b[r]`.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    median(&ratios(a, b))
}

/// The median of the round-by-round differences `a[r] - b[r]`.
pub fn paired_difference(a: &[f64], b: &[f64]) -> f64 {
    let diffs: Vec<f64> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    median(&diffs)
}

/// A median and the spread around it: the 10th and 90th percentiles.
#[derive(Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        Summary {
            median: median(values),
            p10: quantile(values, 0.1),
            p90: quantile(values, 0.9),
        }
    }
}

/// Microseconds as the tables print them: `685`, `1 234`, `75.3 ms`.
pub fn micros(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

/// The spread of `values`: from the 10th to the 90th percentile.
pub fn spread(values: &[f64]) -> String {
    format!(
        "{} – {}",
        micros(quantile(values, 0.1)),
        micros(quantile(values, 0.9))
    )
}

/// A Markdown table.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        let rule: Vec<String> = self
            .header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---" } else { "---:" }.to_string())
            .collect();
        out.push_str(&line(&rule));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}
