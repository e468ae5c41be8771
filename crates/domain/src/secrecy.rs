//! Statistical secrecy for figures shown to those who may see aggregates only (docs/domain.md
//! §5): a cell counting 1 to 4 people is masked, and when a single cell of a line is masked
//! beside its total, the next smallest one is masked too, so that no masked value can be
//! recomputed by subtraction. Two-way tables with their margins are protected by
//! [`table::protect`]: primary and secondary suppression, then an exact audit.

pub mod table;

/// Cells under this count (but above zero) are masked.
pub const THRESHOLD: i64 = 5;

/// The cells of one line as they may be published, given that `total` (their sum) is shown
/// beside them: `None` for a masked cell.
pub fn mask_line(cells: &[i64], total: i64) -> (Vec<Option<i64>>, Option<i64>) {
    let small = |v: i64| v > 0 && v < THRESHOLD;
    if small(total) {
        return (cells.iter().map(|_| None).collect(), None);
    }
    let mut shown: Vec<Option<i64>> = cells
        .iter()
        .map(|&v| if small(v) { None } else { Some(v) })
        .collect();
    if shown.iter().filter(|c| c.is_none()).count() == 1 {
        // One masked cell = total − the others: mask the smallest non-zero shown cell too.
        if let Some(i) = shown
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.filter(|v| *v > 0).map(|v| (i, v)))
            .min_by_key(|(_, v)| *v)
            .map(|(i, _)| i)
        {
            shown[i] = None;
        }
    }
    (shown, Some(total))
}

/// One figure on its own: masked when it counts 1 to 4 people.
pub fn mask(value: i64) -> Option<i64> {
    (value == 0 || value >= THRESHOLD).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_masked_and_cannot_be_recomputed_from_the_total() {
        // 3 is masked; alone it would be 40 − 20 − 17: 17 is masked too.
        let (cells, total) = mask_line(&[20, 3, 17], 40);
        assert_eq!(cells, vec![Some(20), None, None]);
        assert_eq!(total, Some(40));
        // Two masked cells already protect each other.
        let (cells, _) = mask_line(&[30, 2, 4, 10], 46);
        assert_eq!(cells, vec![Some(30), None, None, Some(10)]);
        // Zero is no person: shown.
        let (cells, _) = mask_line(&[0, 12, 9], 21);
        assert_eq!(cells, vec![Some(0), Some(12), Some(9)]);
        // A small total masks the whole line.
        let (cells, total) = mask_line(&[1, 2], 3);
        assert_eq!((cells, total), (vec![None, None], None));
        assert_eq!(mask(4), None);
        assert_eq!(mask(5), Some(5));
        assert_eq!(mask(0), Some(0));
    }
}
