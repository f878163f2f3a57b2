//! Kubernetes resource quantities (`10Gi`, `500M`, `1.5Ti`, `1e9`), as
//! numbers, so sizes can be compared.

/// The value of a quantity in base units, or `None` if it is not one.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    const SUFFIXES: [(&str, f64); 16] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("", 1.0),
    ];
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))?;
    let valid = !number.is_empty()
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'));
    let value: f64 = number.parse().ok().filter(|_| valid)?;
    (value.is_finite() && value >= 0.0).then_some(value * factor)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quantities() {
        assert_eq!(parse("10Gi"), Some(10.0 * 1_073_741_824.0));
        assert_eq!(parse("500M"), Some(5e8));
        assert_eq!(parse("1.5Ti"), Some(1.5 * 1_099_511_627_776.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("100m"), Some(0.1));
        assert_eq!(parse("1024"), Some(1024.0));
        assert!(parse("20Gi").unwrap() > parse("20G").unwrap());
        for bad in ["", "Gi", "ten", "10 Gi", "10GB", "-1Gi", "1.2.3Gi", "NaN"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
