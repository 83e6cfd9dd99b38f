//! Medians, run-by-run ratios and the number formats of the bench's tables.

/// The median; NaN for no samples.
pub(super) fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The ratio of each of `ours` to the `theirs` of the same run (`(run, value)` pairs), in `ours`' order; a run that
/// measured only one side has none. Pairing the samples of one run cancels slow drifts in the machine's load.
pub(super) fn per_run_ratios(ours: &[(usize, f64)], theirs: &[(usize, f64)]) -> Vec<f64> {
    ours.iter()
        .filter_map(|&(run, value)| {
            let (_, base) = theirs.iter().find(|(r, _)| *r == run)?;
            Some(value / base)
        })
        .collect()
}

/// Seconds, as milliseconds below one.
pub(super) fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// Microseconds, as milliseconds from 1,000.
pub(super) fn micros(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

/// Samples as the details list them, with `decimals` places.
pub(super) fn list(samples: &[f64], decimals: usize) -> String {
    if samples.is_empty() {
        return "not measured".to_owned();
    }
    let items: Vec<String> = samples.iter().map(|s| format!("{s:.decimals$}")).collect();
    items.join(", ")
}

/// The smallest and largest sample relative to the median, as `-a% / +b%`: the spread a reader weighs a median by.
pub(super) fn spread(samples: &[f64]) -> String {
    let mid = median(samples);
    let (lo, hi) = samples.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
        (lo.min(s), hi.max(s))
    });
    if samples.is_empty() || mid == 0.0 {
        return "—".to_owned();
    }
    format!("-{:.0}% / +{:.0}%", (1.0 - lo / mid) * 100.0, (hi / mid - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::{median, per_run_ratios, spread};

    #[test]
    fn medians() {
        let cases: [(&[f64], f64); 4] = [
            (&[3.0], 3.0),
            (&[5.0, 1.0, 3.0], 3.0),
            (&[4.0, 1.0, 3.0, 2.0], 2.5),
            (&[2.0, f64::INFINITY, 1.0], 2.0),
        ];
        for (samples, expected) in cases {
            assert_eq!(median(samples), expected, "{samples:?}");
        }
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn ratios_pair_the_samples_of_a_run() {
        // (run, value) of each side
        type Samples<'a> = &'a [(usize, f64)];
        let cases: [(Samples<'_>, Samples<'_>, &[f64]); 3] = [
            (&[(0, 2.0), (1, 3.0)], &[(0, 1.0), (1, 4.0)], &[2.0, 0.75]),
            (&[(1, 3.0), (0, 2.0)], &[(0, 1.0), (1, 4.0)], &[0.75, 2.0]),
            (&[(0, 2.0), (2, 9.0)], &[(0, 4.0), (1, 1.0), (2, 3.0)], &[0.5, 3.0]),
        ];
        for (ours, theirs, expected) in cases {
            assert_eq!(per_run_ratios(ours, theirs), expected, "{expected:?}");
        }
    }

    #[test]
    fn spreads() {
        let cases: [(&[f64], &str); 3] = [(&[10.0], "-0% / +0%"), (&[9.0, 10.0, 12.0], "-10% / +20%"), (&[], "—")];
        for (samples, expected) in cases {
            assert_eq!(spread(samples), expected, "{samples:?}");
        }
    }
}
