//! Order statistics as the definitions require: linear interpolation between
//! closest ranks (numpy's default, Excel's PERCENTILE.INC).

/// The `p` quantile (0..=1) of `values`, or `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(percentile_sorted(&v, p))
}

/// As [`percentile`], for values already sorted ascending and not empty.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let rank = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 0.5)
}

/// `part ÷ whole`, or `None` when there is no whole (nothing to rate).
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Rounds to 4 decimals, as every number of the report is: hours to a third of
/// a second, rates to 0.01 %.
pub fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_interpolation() {
        // numpy.percentile([1, 2, 3, 4], [50, 90]) == [2.5, 3.7]
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&v), Some(2.5));
        assert!((percentile(&v, 0.9).unwrap() - 3.7).abs() < 1e-12);
        // numpy.percentile([2, 4, 6, 20, 30, 50], 90) == 40.0
        assert!(
            (percentile(&[2.0, 4.0, 6.0, 20.0, 30.0, 50.0], 0.9).unwrap() - 40.0).abs() < 1e-12
        );
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }
}
