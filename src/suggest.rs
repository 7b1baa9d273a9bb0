//! "Did you mean ...?": the nearest known name to a mistyped one.

/// The candidate closest to `name`, if any is close enough to be a plausible typo
/// (Jaro-Winkler similarity of at least 0.8, or one name contained in the other).
///
/// ```
/// let ids = ["foot_drop", "groin_pain", "fever_chills"];
/// assert_eq!(radix::suggest::nearest("footdrop", ids), Some("foot_drop"));
/// assert_eq!(radix::suggest::nearest("xyz", ids), None);
/// ```
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(&'a str, f64)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let mut score = strsim::jaro_winkler(&lower, &cl);
        if !lower.is_empty() && lower.len() >= 3 && (cl.contains(&lower) || lower.contains(&cl)) {
            score = score.max(0.85);
        }
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.filter(|&(_, s)| s >= 0.8).map(|(c, _)| c)
}

/// ` (did you mean `x`?)` or nothing, for appending to an error message.
pub fn hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_substrings() {
        let ids = ["disc_herniation", "spinal_stenosis", "saddle_anaesthesia"];
        assert_eq!(
            nearest("saddle_anesthesia", ids),
            Some("saddle_anaesthesia")
        );
        assert_eq!(nearest("stenosis", ids), Some("spinal_stenosis"));
        assert_eq!(nearest("DISC_HERNIATION", ids), Some("disc_herniation"));
        assert_eq!(nearest("qqq", ids), None);
        assert_eq!(nearest("x", std::iter::empty()), None);
    }
}
