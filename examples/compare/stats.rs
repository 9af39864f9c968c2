//! Medians, minimums, percentiles and Markdown tables.

/// Median of `xs` (mean of the middle two for an even count); NaN if empty.
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

pub fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// Latencies of single operations, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub struct Latencies(pub Vec<u64>);

impl Latencies {
    pub fn extend(&mut self, other: &[u64]) {
        self.0.extend_from_slice(other);
    }

    /// Nearest-rank percentile `p` (0..=100), in nanoseconds.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1] as f64
    }

    pub fn p50(&self) -> f64 {
        self.percentile(50.0)
    }
    pub fn p99(&self) -> f64 {
        self.percentile(99.0)
    }
    pub fn min(&self) -> f64 {
        self.0.iter().copied().min().map_or(f64::NAN, |m| m as f64)
    }
}

/// `ns` as microseconds with a sensible number of digits.
pub fn us(ns: f64) -> String {
    let u = ns / 1e3;
    if !u.is_finite() {
        "n/a".into()
    } else if u >= 100.0 {
        format!("{u:.0}")
    } else if u >= 10.0 {
        format!("{u:.1}")
    } else {
        format!("{u:.2}")
    }
}

/// Seconds as a short human duration.
pub fn secs(s: f64) -> String {
    if !s.is_finite() {
        "n/a".into()
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.1} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

/// A rate with thousands separators.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return "n/a".into();
    }
    group(per_sec.round() as u64)
}

/// `1234567` → `1,234,567`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

/// A Markdown table, printed with aligned columns.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns aligned left (the first always is).
    left: Vec<usize>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            left: vec![0],
        }
    }

    /// Aligns these columns left too (text rather than numbers).
    pub fn left(mut self, cols: &[usize]) -> Table {
        self.left.extend_from_slice(cols);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let n = self.headers.len();
        let width = |c: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(c))
                .chain(std::iter::once(&self.headers[c]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..n).map(width).collect();
        let line = |cells: &[String]| {
            let mut out = String::from("|");
            for (c, w) in widths.iter().enumerate() {
                let cell = cells.get(c).map_or("", String::as_str);
                let pad = w - cell.chars().count();
                if self.left.contains(&c) {
                    out.push_str(&format!(" {cell}{} |", " ".repeat(pad)));
                } else {
                    out.push_str(&format!(" {}{cell} |", " ".repeat(pad)));
                }
            }
            out
        };
        println!("{}", line(&self.headers));
        let mut sep = String::from("|");
        for (c, w) in widths.iter().enumerate() {
            if self.left.contains(&c) {
                sep.push_str(&format!("{}|", "-".repeat(w + 2)));
            } else {
                sep.push_str(&format!("{}:|", "-".repeat(w + 1)));
            }
        }
        println!("{sep}");
        for r in &self.rows {
            println!("{}", line(r));
        }
        println!();
    }
}
